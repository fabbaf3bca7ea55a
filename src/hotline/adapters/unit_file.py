"""Reads the unit registry (承办单位) from its TOML file (`rubrics/units.toml`).

Every problem with the file is one `DataFileError` line naming the file, the key
and the problem (see `hotline.adapters.toml_file`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from hotline.adapters.toml_file import key_path, load_toml
from hotline.domain.errors import DataFileError, HotlineError, InvalidInput
from hotline.domain.units import AddedUnit, Rename, Unit, UnitGroup, UnitRegistry

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


class _DatedModel(BaseModel):
    """A unit with effective dates: `from` (生效) and `until` (撤销, that day excluded)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Name
    effective: date | None = Field(default=None, alias="from")
    until: date | None = None


def _entry(value: object) -> object:
    """A group's unit: its name, or a table with its name and dates."""
    if isinstance(value, str):
        return {"name": _trimmed(value)}
    if isinstance(value, dict):
        return value
    raise PydanticCustomError("string_type", "Input should be a valid string")


class _OfficeModel(_DatedModel):
    under: Name


class _GroupModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    key: Annotated[str, AfterValidator(_group_key)]
    name: Name
    graded: bool
    units: list[Annotated[_DatedModel, BeforeValidator(_entry)]] = Field(min_length=1)


class _RenameModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    old: Name
    new: Name
    on: date


class _UnitFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    group: list[_GroupModel] = Field(min_length=1)
    office: list[_OfficeModel] = Field(default_factory=list)
    rename: list[_RenameModel] = Field(default_factory=list)
    aliases: dict[Name, Name] = Field(default_factory=dict)


Span = tuple[date | None, date | None]


def _shown(day: date | None, open_end: str) -> str:
    return open_end if day is None else str(day)


def _outside(inner: Span, outer: Span) -> bool:
    """Whether span `inner` has a day that `outer` has not."""
    starts_before = outer[0] is not None and (inner[0] is None or inner[0] < outer[0])
    ends_after = outer[1] is not None and (inner[1] is None or inner[1] > outer[1])
    return starts_before or ends_after


def _check_cross_references(model: _UnitFileModel) -> tuple[str, str] | None:
    """The first (key, problem) no single field shows: duplicates, bureaux, dates, renames
    and aliases that do not fit together."""
    seen_keys: dict[str, int] = {}
    seen_units: dict[str, str] = {}
    spans: dict[str, Span] = {}
    for index, group in enumerate(model.group):
        if group.key in seen_keys:
            return (
                f"group[{index}].key",
                f"group '{group.key}' is already defined at group[{seen_keys[group.key]}]",
            )
        seen_keys[group.key] = index
        for unit_index, unit in enumerate(group.units):
            if unit.name in seen_units:
                first = seen_units[unit.name]
                where = "this group" if first == group.key else f"group '{first}'"
                return (
                    f"group[{index}].units[{unit_index}]",
                    f"unit '{unit.name}' is already listed in {where}; a unit belongs to one group",
                )
            seen_units[unit.name] = group.key
            spans[unit.name] = (unit.effective, unit.until)
    bureaux = set(seen_units)
    under = {office.name: office.under for office in model.office}
    for index, office in enumerate(model.office):
        where = f"office[{index}]"
        if office.name in seen_units:
            return f"{where}.name", f"unit '{office.name}' is already listed"
        seen_units[office.name] = "office"
        spans[office.name] = (office.effective, office.until)
    for index, office in enumerate(model.office):
        where = f"office[{index}]"
        if office.under not in bureaux:
            if office.under not in under:
                return f"{where}.under", f"unknown bureau '{office.under}'"
            chain = [office.name]
            while chain[-1] in under and under[chain[-1]] not in chain:
                chain.append(under[chain[-1]])
            if chain[-1] in under:
                cycle = " → ".join([*chain, under[chain[-1]]])
                return f"{where}.under", f"offices under each other form a cycle: {cycle}"
            return (
                f"{where}.under",
                f"'{office.under}' is an office; an office sits under a bureau (a group's unit)",
            )
    for name, (effective, until) in spans.items():
        if effective is not None and until is not None and until <= effective:
            return (
                _where(model, name) + ".until",
                f"'{name}' ends ({until}) on or before it takes effect ({effective})",
            )
    for index, office in enumerate(model.office):
        bureau = spans[office.under]
        if _outside(spans[office.name], bureau):
            return (
                f"office[{index}]",
                f"office '{office.name}' is in effect outside its bureau's dates "
                f"({_shown(bureau[0], 'always')} … {_shown(bureau[1], 'open')})",
            )
    renamed: dict[str, int] = {}
    for index, rename in enumerate(model.rename):
        where = f"rename[{index}]"
        if rename.old not in seen_units:
            return f"{where}.old", f"unknown unit '{rename.old}'"
        if rename.old in renamed:
            return (
                f"{where}.old",
                f"'{rename.old}' is already renamed at rename[{renamed[rename.old]}]",
            )
        if rename.new in seen_units:
            return (
                f"{where}.new",
                f"'{rename.new}' is already a unit; a rename gives a unit a new name",
            )
        effective, until = spans[rename.old]
        if until is not None or (effective is not None and rename.on <= effective):
            return (
                f"{where}.on",
                f"the rename on {rename.on} overlaps the dates of '{rename.old}' "
                f"({_shown(effective, 'always')} … {_shown(until, 'open')}); a rename ends "
                "the old name",
            )
        renamed[rename.old] = index
        seen_units[rename.new] = seen_units[rename.old]
        spans[rename.old] = (effective, rename.on)
        spans[rename.new] = (rename.on, None)
    for alias, target in model.aliases.items():
        key = f"aliases.{key_path((alias,))}"
        if alias in seen_units:
            return key, f"alias '{alias}' is itself the name of a unit"
        if target not in seen_units:
            return key, f"alias points to unknown unit '{target}'"
    return None


def _where(model: _UnitFileModel, name: str) -> str:
    """The key of unit `name`'s entry."""
    for index, group in enumerate(model.group):
        for unit_index, entry in enumerate(group.units):
            if entry.name == name:
                return f"group[{index}].units[{unit_index}]"
    return next(f"office[{i}]" for i, o in enumerate(model.office) if o.name == name)


def load_unit_registry(path: Path, changes: Sequence[AddedUnit | Rename] = ()) -> UnitRegistry:
    """The unit registry in the TOML file at `path`, with the units users added in the store
    (`changes`, in the order made) layered over it; a broken file raises DataFileError, an
    addition that no longer fits it InvalidInput."""
    model = load_toml(path, _UnitFileModel, "unit registry")
    problem = _check_cross_references(model)
    if problem is not None:
        key, message = problem
        raise DataFileError(f"{path}: {key}: {message}")
    for change in changes:
        model = _layered(model, change)
        problem = _check_cross_references(model)
        if problem is not None:
            raise InvalidInput(f"{_described(change)}: {problem[1]}")
    return _registry(path, model)


def _described(change: AddedUnit | Rename) -> str:
    if isinstance(change, Rename):
        return f"renaming '{change.old}' to '{change.new}' on {change.on}"
    return f"unit '{change.name}' (`hotline units add`)"


def _layered(model: _UnitFileModel, change: AddedUnit | Rename) -> _UnitFileModel:
    """`model` with one user's addition: a unit at the end of its group, an office, a
    rename, its aliases."""
    if isinstance(change, Rename):
        rename = _RenameModel(old=change.old, new=change.new, on=change.on)
        return model.model_copy(update={"rename": [*model.rename, rename]})
    for alias in change.aliases:
        if not alias or alias != alias.strip():
            raise InvalidInput(f"alias {alias!r} is empty or has surrounding whitespace")
        if alias in model.aliases:
            raise InvalidInput(f"alias '{alias}' already names '{model.aliases[alias]}'")
    aliases = {**model.aliases, **dict.fromkeys(change.aliases, change.name)}
    if change.under is not None:
        office = _OfficeModel.model_validate(
            {"name": change.name, "under": change.under, "from": change.effective}
        )
        return model.model_copy(update={"office": [*model.office, office], "aliases": aliases})
    keys = [group.key for group in model.group]
    if change.group not in keys:
        raise InvalidInput(
            f"unit '{change.name}': unknown unit group '{change.group}'; valid groups: "
            + ", ".join(keys)
        )
    unit = _DatedModel.model_validate({"name": change.name, "from": change.effective})
    groups = [
        group.model_copy(update={"units": [*group.units, unit]})
        if group.key == change.group
        else group
        for group in model.group
    ]
    return model.model_copy(update={"group": groups, "aliases": aliases})


def _registry(path: Path, model: _UnitFileModel) -> UnitRegistry:
    groups = [
        UnitGroup(
            key=group.key,
            name=group.name,
            graded=group.graded,
            units=tuple(entry.name for entry in group.units),
        )
        for group in model.group
    ]
    group_of = {name: group.key for group in groups for name in group.units}
    offices = [
        Unit(
            name=office.name,
            group=group_of[office.under],
            under=office.under,
            effective=office.effective,
            until=office.until,
        )
        for office in model.office
    ]
    spans = {
        unit.name: (unit.effective, unit.until)
        for group in model.group
        for unit in group.units
        if unit.effective is not None or unit.until is not None
    }
    renames = [Rename(r.old, r.new, r.on) for r in model.rename]
    try:
        return UnitRegistry(groups, model.aliases, offices=offices, spans=spans, renames=renames)
    except HotlineError as error:  # pragma: no cover - the checks above catch these first
        raise DataFileError(f"{path}: {error}") from None
