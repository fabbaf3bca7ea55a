"""Export mappings as TOML files: the shipped ones (rubrics/mappings/) by name, an
office's own by path."""

from __future__ import annotations

import os
from pathlib import Path

from hotline.adapters.shipped import shipped
from hotline.adapters.toml_file import load_toml
from hotline.domain.errors import InvalidInput
from hotline.domain.mapping import Mapping

DEFAULT_MAPPING = "default"


def mappings_dir() -> Path:
    """The mappings shipped with hotline."""
    return shipped("rubrics") / "mappings"


def shipped_mappings() -> list[Path]:
    return sorted(mappings_dir().glob("*.toml"))


def mapping_path(name: str) -> Path:
    """The file `name` names: a path to a `.toml` file, or a shipped mapping's name."""
    if name.endswith(".toml") or os.sep in name or "/" in name:
        return Path(name)
    path = mappings_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(p.stem for p in shipped_mappings())
        raise InvalidInput(f"unknown mapping {name!r}; use one of: {known}, or a .toml file")
    return path


def load_mapping(path: Path) -> Mapping:
    return load_toml(path, Mapping, "mapping")
