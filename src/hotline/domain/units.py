"""The handling units (承办单位) and the groups they are assessed in (domain.md §2).

The registry itself is data (`rubrics/units.toml`, read by
`hotline.adapters.unit_file`); this module only holds it and answers look-ups.
Units change over time: a unit may take effect (生效) and end (撤销) on a date, a rename
ends the old name where the new one begins, and an office (市场监管所) sits under its
bureau, whose numbers it counts in unless a report asks for offices (`Level`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from itertools import repeat
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from hotline.domain.errors import InvalidInput, UnknownUnit
from hotline.domain.lengths import UNIT_NAME

# How close (difflib ratio) a name must be to be suggested for a typo, and how far
# below the best match a further suggestion may be (so one clear typo fix is not
# drowned in every other "…区市场监管局").
_CLOSE_CUTOFF = 0.6
_CLOSE_MARGIN = 0.1


class Level(StrEnum):
    """What a report's rows are: bureaux (an office's orders rolled up) or the offices."""

    BUREAU = "bureau"
    OFFICE = "office"


@dataclass(frozen=True)
class Unit:
    """A handling unit, by its registry name, and the key of its group; an office names its
    bureau (`under`); `effective` … `until` (that day excluded) is when orders may be
    received by it, and `successor` is the name it was renamed to on `until`."""

    name: str
    group: str
    under: str | None = None
    effective: date | None = None
    until: date | None = None
    successor: str | None = None

    def serves(self, start: date, end: date) -> bool:
        """Whether the unit is in effect on some day of `start` … `end` (both included)."""
        return (self.effective is None or self.effective <= end) and (
            self.until is None or self.until > start
        )


@dataclass(frozen=True)
class Rename:
    """`old` is called `new` from `on` (the old name ends, the new one begins)."""

    old: str
    new: str
    on: date


@dataclass(frozen=True)
class AddedUnit:
    """A unit a user added (`hotline units add`): in `group`, or an office `under` a
    bureau, in effect from `effective`, also spelled `aliases`."""

    name: str
    group: str
    under: str | None = None
    effective: date | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reporting:
    """The rows a report of some days has at one level, and where each order counts.

    `names` are the units reported, group by group (`groups` gives each one's group key);
    `index` maps every name an order may carry (an office, an old name) to its row.
    """

    names: tuple[str, ...]
    groups: tuple[str, ...]
    index: Mapping[str, int]

    def keys(self, units: Sequence[str]) -> npt.NDArray[np.int64]:
        """Each order's row (by the unit it carries), -1 for an order no row counts."""
        return np.fromiter(map(self.index.get, units, repeat(-1)), np.int64, len(units))


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
        *,
        offices: Iterable[Unit] = (),
        spans: Mapping[str, tuple[date | None, date | None]] = MappingProxyType({}),
        renames: Iterable[Rename] = (),
    ) -> None:
        """`groups` list their bureaux; `offices` (with their group and `under`) sit under
        them; `spans` give a unit's (effective, until); each rename adds its new name to
        the old one's group (or bureau), right after it. The file's reader has checked that
        these fit together (`hotline.adapters.unit_file`)."""
        groups = list(groups)
        renames = list(renames)
        for rename in renames:  # the new name is listed beside the old one
            groups = [replace(g, units=_after(g.units, rename.old, rename.new)) for g in groups]
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
        self._offices: list[str] = []
        for office in offices:
            self._offices.append(office.name)
            self._by_name[office.name] = office
        for name, (effective, until) in spans.items():
            self._by_name[name] = replace(self._by_name[name], effective=effective, until=until)
        for rename in renames:
            old = self._by_name[rename.old]
            if old.under is not None:
                self._offices.insert(self._offices.index(old.name) + 1, rename.new)
            self._by_name[rename.new] = replace(old, name=rename.new, effective=rename.on)
            self._by_name[rename.old] = replace(old, until=rename.on, successor=rename.new)

        self._aliases: dict[str, str] = {}
        for alias, target in aliases.items():
            if not alias or alias != alias.strip():
                raise InvalidInput(f"alias {alias!r} is empty or has surrounding whitespace")
            if alias in self._by_name:
                raise InvalidInput(f"alias '{alias}' is itself the name of a unit")
            if target not in self._by_name:
                raise UnknownUnit(f"alias '{alias}' points to unknown unit '{target}'")
            self._aliases[alias] = target

        self._units: tuple[Unit, ...] = (
            *(self._by_name[n] for g in self._groups for n in g.units),
            *self.offices,
        )

    @property
    def groups(self) -> tuple[UnitGroup, ...]:
        """The groups, in file order."""
        return self._groups

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit, group by group, each group in file order, then the offices."""
        return self._units

    @property
    def offices(self) -> tuple[Unit, ...]:
        """Every office (市场监管所), in file order, each under its bureau."""
        return tuple(self._by_name[name] for name in self._offices)

    def history(self, name: str) -> tuple[str, ...]:
        """Every name the unit `name` has had, oldest first (one name if never renamed)."""
        unit = self.get(name)
        while (older := self._renamed_from(unit.name)) is not None:
            unit = older
        names = [unit.name]
        while unit.successor is not None:
            unit = self._by_name[unit.successor]
            names.append(unit.name)
        return tuple(names)

    def covering(self, name: str) -> frozenset[str]:
        """The names a closure scoped to units may give to close the orders of unit `name`:
        each of its names, and, for an office, each of its bureau's (a bureau's closure closes
        its offices, an office's only itself). A name the registry no longer knows is only
        itself."""
        if name not in self:
            return frozenset({name})
        unit = self.get(name)
        names = set(self.history(unit.name))
        if unit.under is not None:
            names.update(self.history(unit.under))
        return frozenset(names)

    def _renamed_from(self, name: str) -> Unit | None:
        return next((u for u in self._by_name.values() if u.successor == name), None)

    def at(self, name: str, day: date) -> Unit:
        """The unit `name` names, refused unless it is in effect on `day` (an order received
        then); a unit that has ended names its successor."""
        unit = self.get(name)
        if unit.effective is not None and day < unit.effective:
            raise UnknownUnit(
                f"unit '{unit.name}' takes effect on {unit.effective}; it received nothing on {day}"
            )
        if unit.until is not None and day >= unit.until:
            successor = self.reported(unit.name, day, Level.OFFICE)
            instead = f"; use its successor '{successor}'" if successor != unit.name else ""
            raise UnknownUnit(
                f"unit '{unit.name}' ended (撤销) on {unit.until}; it received nothing "
                f"on {day}{instead}"
            )
        return unit

    def reported(self, name: str, day: date, level: Level = Level.BUREAU) -> str:
        """The name an order received by `name` is reported under on `day`: its bureau's if
        it is an office and the level is bureaux, by the name in effect that day."""
        unit = self.get(name)
        if level is Level.BUREAU and unit.under is not None:
            unit = self.get(unit.under)
        while unit.successor is not None and unit.until is not None and unit.until <= day:
            unit = self._by_name[unit.successor]
        return unit.name

    def reporting(
        self, start: date, end: date, level: Level = Level.BUREAU, groups: Iterable[str] = ()
    ) -> Reporting:
        """The rows of a report of `start` … `end` at `level` (of `groups`, or all), named
        as on `end`: the units in effect some day then, a renamed one once."""
        keys = set(groups) or {g.key for g in self._groups}
        if level is Level.BUREAU:
            members = [(g.key, n) for g in self._groups if g.key in keys for n in g.units]
        else:
            members = [(o.group, o.name) for o in self.offices if o.group in keys]
        names: list[str] = []
        of: list[str] = []
        for key, name in members:
            shown = self.reported(name, end, level)
            if self._by_name[name].serves(start, end) and shown not in names:
                names.append(shown)
                of.append(key)
        row = {name: i for i, name in enumerate(names)}
        index = {
            name: row[shown]
            for name in self._by_name
            if (shown := self.reported(name, end, level)) in row
            and (level is Level.BUREAU or self._by_name[name].under is not None)
        }
        return Reporting(tuple(names), tuple(of), MappingProxyType(index))

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


def _after(names: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    """`names` with `new` right after `old` (unchanged if `old` is not there)."""
    if old not in names:
        return names
    at = names.index(old) + 1
    return (*names[:at], new, *names[at:])
