"""Reads the unit registry (承办单位) from its TOML file (`rubrics/units.toml`).

Every problem with the file is one `DataFileError` line naming the file, the key
and the problem (see `hotline.adapters.toml_file`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hotline.adapters.toml_file import key_path, load_toml
from hotline.domain.errors import DataFileError, HotlineError
from hotline.domain.units import UnitGroup, UnitRegistry

_GROUP_KEY = re.compile(r"[a-z][a-z0-9_]*")


def _trimmed(value: str) -> str:
    if not value or value != value.strip():
        raise ValueError("must not be empty or have surrounding whitespace")
    return value


def _group_key(value: str) -> str:
    if not _GROUP_KEY.fullmatch(value):
        raise ValueError("must be lower-case letters, digits and '_', starting with a letter")
    return value


Name = Annotated[str, AfterValidator(_trimmed)]


class _GroupModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    key: Annotated[str, AfterValidator(_group_key)]
    name: Name
    graded: bool
    units: list[Name] = Field(min_length=1)


class _UnitFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    group: list[_GroupModel] = Field(min_length=1)
    aliases: dict[Name, Name] = Field(default_factory=dict)


def _check_cross_references(model: _UnitFileModel) -> tuple[str, str] | None:
    """The first (key, problem) no single field shows: duplicates and bad aliases."""
    seen_keys: dict[str, int] = {}
    seen_units: dict[str, str] = {}
    for index, group in enumerate(model.group):
        if group.key in seen_keys:
            return (
                f"group[{index}].key",
                f"group '{group.key}' is already defined at group[{seen_keys[group.key]}]",
            )
        seen_keys[group.key] = index
        for unit_index, unit in enumerate(group.units):
            if unit in seen_units:
                first = seen_units[unit]
                where = "this group" if first == group.key else f"group '{first}'"
                return (
                    f"group[{index}].units[{unit_index}]",
                    f"unit '{unit}' is already listed in {where}; a unit belongs to one group",
                )
            seen_units[unit] = group.key
    for alias, target in model.aliases.items():
        key = f"aliases.{key_path((alias,))}"
        if alias in seen_units:
            return key, f"alias '{alias}' is itself the name of a unit"
        if target not in seen_units:
            return key, f"alias points to unknown unit '{target}'"
    return None


def load_unit_registry(path: Path) -> UnitRegistry:
    """The unit registry in the TOML file at `path`; a broken file raises DataFileError."""
    model = load_toml(path, _UnitFileModel, "unit registry")
    problem = _check_cross_references(model)
    if problem is not None:
        key, message = problem
        raise DataFileError(f"{path}: {key}: {message}")

    groups = [
        UnitGroup(key=group.key, name=group.name, graded=group.graded, units=tuple(group.units))
        for group in model.group
    ]
    try:
        return UnitRegistry(groups, model.aliases)
    except HotlineError as error:  # pragma: no cover - the checks above catch these first
        raise DataFileError(f"{path}: {error}") from None
