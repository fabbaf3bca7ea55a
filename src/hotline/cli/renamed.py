"""Options renamed after 0.1.0 so that a flag says what the import's field says
(`--legal-basis` for `legal_basis`): each old name stays as a hidden alias, so scripts keep
working for a while, and giving an option under both names is refused."""

from __future__ import annotations

from typing import TypeVar

from hotline.domain.errors import InvalidInput

T = TypeVar("T")


def renamed(new: T | None, old: T | None, new_flag: str, old_flag: str) -> T | None:
    """The value given under `new_flag` or under its old name `old_flag` (None if neither)."""
    if new is not None and old is not None:
        raise InvalidInput(f"{old_flag} is the old name of {new_flag}: give one of them, not both")
    return new if new is not None else old


def old_switch(given: bool, meaning: T) -> T | None:
    """What an old one-way switch (`--not-informed`, `--json`) says: `meaning` if it was
    given, else nothing."""
    return meaning if given else None


def yes_unless_told(new: bool | None, old_no: bool, new_flag: str, old_flag: str) -> bool:
    """A field that is yes unless told (`citizen_informed`): no if `--no-field` or its old
    one-way name (`--not-informed`) was given."""
    return renamed(new, old_switch(old_no, False), new_flag, old_flag) is not False
