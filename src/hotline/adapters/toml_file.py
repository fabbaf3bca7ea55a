"""Data files in TOML, validated with pydantic.

Every problem with a file is one `DataFileError` line naming the file, the key
and the problem, e.g. `units.toml: group[1].graded: Input should be a valid boolean`
(array indexes count from 0).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hotline.domain.errors import DataFileError

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
M = TypeVar("M", bound=BaseModel)


def key_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a TOML-ish key path: `group[1].units[3]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (the key)"
        else:
            name = part if _BARE_KEY.fullmatch(part) else f'"{part}"'
            text += f".{name}" if text else name
    return text or "(top level)"


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """The TOML document `text`; `origin` names it in errors."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The message ends with "(at line L, column C)".
        raise DataFileError(f"{origin}: invalid TOML: {error}") from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML file at `path`, holding `what` (for the error message)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataFileError(f"{path}: cannot read the {what}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise DataFileError(f"{path}: not UTF-8 text: {error.reason}") from None
    return parse_toml(text, str(path))


def validate(model: type[M], raw: dict[str, Any], origin: str) -> M:
    """`raw` as a `model`; the first problem becomes one DataFileError line."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        # A misspelt key is reported as itself first, not as the key it left missing.
        errors = sorted(
            error.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden"
        )
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        where = key_path(_in_file(raw, first["loc"]))
        raise DataFileError(f"{origin}: {where}: {first['msg']}{more}") from None


def _in_file(raw: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """`loc` without the parts that are not keys of the file: pydantic adds the tag of a
    tagged union (`component[1].rate.weight` is `component[1].weight` in the file)."""
    kept: list[int | str] = []
    node = raw
    for part in loc:
        if isinstance(node, dict) and part not in node and part in node.values():
            continue  # the tag's value, e.g. method = "rate"
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        kept.append(part)
    return tuple(kept)


def load_toml(path: Path, model: type[M], what: str) -> M:
    """The TOML file at `path` validated as `model`."""
    return validate(model, read_toml(path, what), str(path))
