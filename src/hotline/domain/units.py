"""The handling units (承办单位) and the groups they are assessed in (domain.md §2).

The registry itself is data (`rubrics/units.toml`, read by
`hotline.adapters.unit_file`); this module only holds it and answers look-ups.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hotline.domain.errors import InvalidInput, UnknownUnit
from hotline.domain.lengths import UNIT_NAME

# How close (difflib ratio) a name must be to be suggested for a typo, and how far
# below the best match a further suggestion may be (so one clear typo fix is not
# drowned in every other "…区市场监管局").
_CLOSE_CUTOFF = 0.6
_CLOSE_MARGIN = 0.1


@dataclass(frozen=True)
class Unit:
    """A handling unit, by its registry name, and the key of its group."""

    name: str
    group: str


@dataclass(frozen=True)
class UnitGroup:
    """A group of units scored within itself; only a graded group gets 优秀/良好/合格."""

    key: str
    name: str
    graded: bool
    units: tuple[str, ...]


class UnitRegistry:
    """Every known unit, in groups, in file order; looks units up by name or alias."""

    def __init__(
        self,
        groups: Iterable[UnitGroup],
        aliases: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        self._groups: tuple[UnitGroup, ...] = tuple(groups)
        self._by_key: dict[str, UnitGroup] = {}
        self._by_name: dict[str, Unit] = {}
        for group in self._groups:
            if group.key in self._by_key:
                raise InvalidInput(f"unit group '{group.key}' is defined twice")
            self._by_key[group.key] = group
            for name in group.units:
                if not name or name != name.strip():
                    raise InvalidInput(
                        f"unit name {name!r} in group '{group.key}' is empty "
                        "or has surrounding whitespace"
                    )
                if name in self._by_name:
                    first = self._by_name[name].group
                    where = (
                        f"twice in group '{first}'"
                        if first == group.key
                        else f"in group '{first}' and again in group '{group.key}'"
                    )
                    raise InvalidInput(f"unit '{name}' is listed {where}")
                self._by_name[name] = Unit(name=name, group=group.key)

        self._aliases: dict[str, str] = {}
        for alias, target in aliases.items():
            if not alias or alias != alias.strip():
                raise InvalidInput(f"alias {alias!r} is empty or has surrounding whitespace")
            if alias in self._by_name:
                raise InvalidInput(f"alias '{alias}' is itself the name of a unit")
            if target not in self._by_name:
                raise UnknownUnit(f"alias '{alias}' points to unknown unit '{target}'")
            self._aliases[alias] = target

        self._units: tuple[Unit, ...] = tuple(self._by_name.values())

    @property
    def groups(self) -> tuple[UnitGroup, ...]:
        """The groups, in file order."""
        return self._groups

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit, group by group, each group in file order."""
        return self._units

    @property
    def aliases(self) -> Mapping[str, str]:
        """Other spellings -> unit name."""
        return MappingProxyType(self._aliases)

    def group(self, key: str) -> UnitGroup:
        """The group with this key; an unknown key is refused, naming the valid ones."""
        try:
            return self._by_key[key.strip()]
        except KeyError:
            valid = ", ".join(self._by_key)
            raise UnknownUnit(f"unknown unit group '{key}'; valid groups: {valid}") from None

    def get(self, name: str) -> Unit:
        """The unit with this name or alias (surrounding whitespace ignored)."""
        text = name.strip()
        unit = self._by_name.get(self._aliases.get(text, text))
        if unit is not None:
            return unit
        if len(text) > UNIT_NAME:  # no unit is named so; comparing would take long
            raise UnknownUnit(
                f"unknown unit '{text[:20]}…' ({len(text)} characters; a unit's name has at "
                f"most {UNIT_NAME}) (see `hotline units`)"
            )
        suggestions = self.suggest(text)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise UnknownUnit(f"unknown unit '{text}'{hint} (see `hotline units`)")

    def canonical(self, unit: str | None) -> str | None:
        """The registered name of `unit` (its name or an alias, looked up as `get` does); None
        when no unit is given: the one place a unit given by a user becomes its name."""
        return None if unit is None else self.get(unit).name

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Up to `limit` unit names closest to `name`, best first.

        Names containing what was typed come first, in file order ('闵行' gives
        闵行区市场监管局 and 闵行区消保委); then names contained in it; then close
        spellings (difflib), the best and any nearly as good.
        """
        text = name.strip()
        if not text or limit <= 0:
            return []
        found: list[str] = []

        def add(candidate: str) -> None:
            unit_name = self._aliases.get(candidate, candidate)
            if unit_name not in found:
                found.append(unit_name)

        spellings = [*self._by_name, *self._aliases]
        for spelling in spellings:
            if text in spelling:
                add(spelling)
        for spelling in spellings:
            if spelling in text:
                add(spelling)
        scored = sorted(
            (
                (difflib.SequenceMatcher(None, text, spelling).ratio(), spelling)
                for spelling in spellings
            ),
            key=lambda pair: -pair[0],
        )
        if scored:
            floor = max(_CLOSE_CUTOFF, scored[0][0] - _CLOSE_MARGIN)
            for ratio, spelling in scored:
                if ratio < floor:
                    break
                add(spelling)
        return found[:limit]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        text = name.strip()
        return text in self._by_name or text in self._aliases

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units)

    def __len__(self) -> int:
        return len(self._units)
