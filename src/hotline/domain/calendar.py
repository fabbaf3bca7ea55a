"""The working-day calendar (工作日), domain.md §4.

Weekends are off unless they are make-up workdays (调休上班); the days of a statutory
holiday period (法定节假日) are off; a local closure (e.g. a typhoon day) turns a working
day off, everywhere or only for some units or districts (a typhoon closes one district:
`Place`, and `OrderCalendars` for many orders at once). A year with no published schedule
(国务院办公厅 notice, usually out in November) knows its weekends and, from 2025, its
statutory holidays (computed, `statutory_holidays`); its bridge days and make-up days are
never guessed: it reports `published=False` and the caller decides whether to warn or
refuse.

Working days are numbered from the epoch (2000-01-01) so that deadline arithmetic is a
list lookup: `ordinal(d)` is the count of working days up to and including `d`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property
from itertools import accumulate
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from hotline.domain.errors import CalendarError, InvalidInput
from hotline.domain.statutory_holidays import STATUTORY_FROM, statutory_holidays

Days = npt.NDArray[np.int64]
"""Many days at once, as `date.toordinal()` numbers."""

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "SHANGHAI_DISTRICTS",
    "Closure",
    "DayKind",
    "DayStatus",
    "OrderCalendars",
    "Place",
    "WorkingCalendar",
    "YearSchedule",
]

FIRST_DAY = date(2000, 1, 1)
"""The calendar's epoch: the first supported day."""
LAST_DAY = date(2099, 12, 31)
"""The last supported day."""

_FIRST_ORD = FIRST_DAY.toordinal()
_DAYS = LAST_DAY.toordinal() - _FIRST_ORD + 1
_RANGE = f"{FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}"
SHANGHAI_DISTRICTS = (
    "黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区",
    "宝山区", "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区",
)  # fmt: skip
"""Shanghai's 16 districts (区), spelled as orders carry them: what a closure may be scoped
to."""
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class DayKind(StrEnum):
    """Why a day is working or not."""

    WORKDAY = "workday"  # 工作日: Monday–Friday, nothing special
    WEEKEND = "weekend"  # 周末: Saturday/Sunday, off
    HOLIDAY = "holiday"  # 节假日: a day off of a holiday period (incl. its weekends)
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班: a weekend day that is working
    CLOSURE = "closure"  # 停工: a local closure (typhoon day…) of a working day


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _out_of_range(day: date, what: str = "") -> CalendarError:
    return CalendarError(f"{what}{day.isoformat()} is outside the working-day calendar ({_RANGE})")


def _check_day(day: date, what: str = "") -> None:
    if not 0 <= day.toordinal() - _FIRST_ORD < _DAYS:
        raise _out_of_range(day, what)


@dataclass(frozen=True)
class YearSchedule:
    """One year's published holiday schedule (国务院办公厅关于…年部分节假日安排的通知).

    `holidays`: every day off of a holiday period, weekends inside it included, mapped to
    the holiday's name (e.g. "春节"). `workdays`: the make-up workdays (调休上班), weekend
    days that are working, mapped to the holiday they belong to. All dates lie in `year`.
    """

    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    source: str

    def __post_init__(self) -> None:
        if not FIRST_DAY.year <= self.year <= LAST_DAY.year:
            raise CalendarError(
                f"schedule year {self.year} is outside the working-day calendar ({_RANGE})"
            )
        # Defensive read-only copies: a schedule is a value.
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "workdays", MappingProxyType(dict(self.workdays)))
        where = f"{self.year} schedule ({self.source})"
        for kind, days in (("holiday", self.holidays), ("make-up workday", self.workdays)):
            for day in sorted(days):
                if day.year != self.year:
                    raise CalendarError(f"{where}: {kind} {day.isoformat()} is not in {self.year}")
        for day in sorted(self.workdays):
            if not _is_weekend(day):
                raise CalendarError(
                    f"{where}: make-up workday {day.isoformat()} is a "
                    f"{_WEEKDAY_NAMES[day.weekday()]}; it must be a Saturday or Sunday"
                )
            if day in self.holidays:
                raise CalendarError(
                    f"{where}: {day.isoformat()} is both a holiday and a make-up workday"
                )


@dataclass(frozen=True)
class Place:
    """Where an order is handled, as closures see it: every name its unit answers to (its
    own names and its bureau's, `UnitRegistry.covering`) and the order's district (区)."""

    units: frozenset[str]
    district: str | None = None


@dataclass(frozen=True)
class Closure:
    """A local closure (停工, e.g. a typhoon day): a working day that is off, everywhere, or
    only for orders handled by `units` (a bureau's covers its offices) or in `districts`."""

    day: date
    reason: str
    units: frozenset[str] = field(default_factory=frozenset)
    districts: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", frozenset(self.units))
        object.__setattr__(self, "districts", frozenset(self.districts))

    @property
    def everywhere(self) -> bool:
        """Whether the closure is the whole city's (no scope given)."""
        return not self.units and not self.districts

    def covers(self, place: Place) -> bool:
        """Whether orders handled at `place` have the day off."""
        return (
            self.everywhere
            or not self.units.isdisjoint(place.units)
            or place.district in self.districts
        )


@dataclass(frozen=True)
class DayStatus:
    """What the calendar knows about one day."""

    day: date
    kind: DayKind
    is_working: bool
    name: str | None  # holiday name / make-up workday's holiday / closure reason
    published: bool  # False: no published schedule; weekends and statutory holidays only
    local: Closure | None = None
    """A closure of the day scoped to units or districts that this calendar is not of."""


class WorkingCalendar:
    """Working days 2000-01-01 … 2099-12-31 from published schedules and closures.

    A later schedule for the same year replaces an earlier one (user data overrides the
    package's); a later closure of the same day replaces an earlier one. A closure of a
    day that is not a working day anyway has no effect. A closure scoped to units or
    districts is off only in the calendar `at` a place it covers: this one is the city's.
    """

    def __init__(self, schedules: Iterable[YearSchedule], closures: Iterable[Closure] = ()) -> None:
        self._schedules: dict[int, YearSchedule] = {}
        for schedule in schedules:
            self._schedules[schedule.year] = schedule
        self._closures: dict[date, Closure] = {}
        for closure in closures:
            _check_day(closure.day, "closure ")
            self._closures[closure.day] = closure

        # working[i] == 1 iff day FIRST_DAY + i is a working day.
        week = bytearray(
            0 if _is_weekend(date.fromordinal(_FIRST_ORD + i)) else 1 for i in range(7)
        )
        working = (week * (_DAYS // 7 + 1))[:_DAYS]
        # A year with no schedule still has its days off by law (only its 调休 is unknown).
        self._statutory: dict[date, str] = {
            day: name
            for year in range(max(STATUTORY_FROM, FIRST_DAY.year), LAST_DAY.year + 1)
            if year not in self._schedules
            for day, name in statutory_holidays(year).items()
        }
        for day in self._statutory:
            working[day.toordinal() - _FIRST_ORD] = 0
        for schedule in self._schedules.values():
            for day in schedule.holidays:
                working[day.toordinal() - _FIRST_ORD] = 0
            for day in schedule.workdays:
                working[day.toordinal() - _FIRST_ORD] = 1
        self._open = working  # before any closure
        # The calendars at places, by the closure days they have off (shared with them).
        self._places: dict[frozenset[date], WorkingCalendar] = {}
        self._close(frozenset(day for day, c in self._closures.items() if c.everywhere))

    def _close(self, days: frozenset[date]) -> None:
        working = bytearray(self._open)
        for day in days:
            working[day.toordinal() - _FIRST_ORD] = 0
        self._closed = days
        self._working = working
        # _cumulative[i]: working days in [FIRST_DAY, FIRST_DAY + i] (the ordinal).
        self._cumulative: list[int] = list(accumulate(working))
        # _offsets[k - 1]: offset from FIRST_DAY of the working day whose ordinal is k.
        self._offsets: list[int] = [i for i, w in enumerate(working) if w]
        self._places[days] = self

    @property
    def local_closures(self) -> tuple[Closure, ...]:
        """The closures scoped to units or districts, by day."""
        return tuple(c for _, c in sorted(self._closures.items()) if not c.everywhere)

    def at(self, place: Place) -> WorkingCalendar:
        """The calendar of orders handled at `place`: the city's, with the days off of the
        closures scoped to it. Built once per distinct set of such days, not per order."""
        days = frozenset(day for day, c in self._closures.items() if c.covers(place))
        found = self._places.get(days)
        if found is None:
            found = object.__new__(WorkingCalendar)
            found.__dict__.update(
                {k: v for k, v in self.__dict__.items() if not k.endswith("_array")}
            )
            found._close(days)
        return found

    @property
    def published_years(self) -> tuple[int, ...]:
        """Years with a published schedule, sorted."""
        return tuple(sorted(self._schedules))

    def is_published(self, year: int) -> bool:
        """Whether `year` has a published schedule (else only its weekends and statutory
        holidays are known)."""
        return year in self._schedules

    def status(self, day: date) -> DayStatus:
        """The kind of `day`, whether it is working, and why."""
        _check_day(day)
        schedule = self._schedules.get(day.year)
        published = schedule is not None
        kind, name = DayKind.WORKDAY, None
        if schedule is not None and day in schedule.workdays:
            kind, name = DayKind.MAKEUP_WORKDAY, schedule.workdays[day]
        elif schedule is not None and day in schedule.holidays:
            kind, name = DayKind.HOLIDAY, schedule.holidays[day]
        elif day in self._statutory:
            kind, name = DayKind.HOLIDAY, self._statutory[day]
        elif _is_weekend(day):
            kind = DayKind.WEEKEND
        is_working = kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)
        closure = self._closures.get(day)
        local = None
        if is_working and closure is not None:
            if day in self._closed:
                kind, name, is_working = DayKind.CLOSURE, closure.reason, False
            else:
                local = closure
        return DayStatus(day, kind, is_working, name, published, local)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day (工作日)."""
        return bool(self._working[self._index(day)])

    def ordinal(self, day: date) -> int:
        """Count of working days from the epoch up to and including `day`."""
        return self._cumulative[self._index(day)]

    def working_day(self, ordinal: int) -> date:
        """The working day whose ordinal is `ordinal` (inverse of `ordinal`)."""
        if not 1 <= ordinal <= len(self._offsets):
            raise CalendarError(
                f"working day #{ordinal} is outside the working-day calendar ({_RANGE})"
            )
        return date.fromordinal(_FIRST_ORD + self._offsets[ordinal - 1])

    def add_working_days(self, day: date, n: int) -> date:
        """The date of working day `n` counted from `day`, `day` itself not counted.

        Day 1 is the first working day after `day` (收到之日不计入, domain.md §4): a Saturday
        receipt has Monday (if working) as day 1.
        """
        if n < 1:
            raise InvalidInput(f"a number of working days must be at least 1, got {n}")
        target = self.ordinal(day) + n
        if target > len(self._offsets):
            raise CalendarError(
                f"{n} working days after {day.isoformat()} is past the end of the "
                f"working-day calendar ({_RANGE})"
            )
        return self.working_day(target)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`: ordinal(end) - ordinal(start)."""
        return self.ordinal(end) - self.ordinal(start)

    def ordinals(self, days: Days) -> Days:
        """`ordinal` of many days at once (days as `date.toordinal()` numbers)."""
        return self._cumulative_array[_indices(days)]

    def working_days(self, ordinals: Days) -> Days:
        """`working_day` of many ordinals at once, as `date.toordinal()` numbers."""
        if ordinals.size and (int(ordinals.min()) < 1 or int(ordinals.max()) > len(self._offsets)):
            raise CalendarError(f"a deadline falls outside the working-day calendar ({_RANGE})")
        return self._offsets_array[ordinals - 1] + _FIRST_ORD

    @cached_property
    def _cumulative_array(self) -> Days:
        return np.asarray(self._cumulative, dtype=np.int64)

    @cached_property
    def _offsets_array(self) -> Days:
        return np.asarray(self._offsets, dtype=np.int64)

    def unpublished_years(self, start: date, end: date) -> tuple[int, ...]:
        """Years touched by [start, end] with no published schedule (empty if start > end)."""
        _check_day(start)
        _check_day(end)
        return tuple(
            year for year in range(start.year, end.year + 1) if year not in self._schedules
        )

    def _index(self, day: date) -> int:
        index = day.toordinal() - _FIRST_ORD
        if not 0 <= index < _DAYS:
            raise _out_of_range(day)
        return index


def _indices(days: Days) -> Days:
    """Many days' offsets from the epoch, refused if one is outside the calendar."""
    index = days - _FIRST_ORD
    if index.size and (int(index.min()) < 0 or int(index.max()) >= _DAYS):
        bad = int(days[(index < 0) | (index >= _DAYS)][0])
        raise _out_of_range(date.fromordinal(max(bad, 1)))
    return index


class OrderCalendars:
    """The calendar of each of N orders (`WorkingCalendar.at` its place), for counting
    column-wise: `key[i]` is order i's among `calendars`, one per distinct set of days off,
    so a year of orders costs a few calendars, not one each."""

    def __init__(self, calendars: Sequence[WorkingCalendar], key: Days) -> None:
        self.calendars = tuple(calendars)
        self.key = key

    @classmethod
    def one(cls, calendar: WorkingCalendar, size: int) -> OrderCalendars:
        """`size` orders on one calendar."""
        return cls([calendar], np.zeros(size, dtype=np.int64))

    @classmethod
    def of(
        cls,
        calendar: WorkingCalendar,
        units: Sequence[str],
        districts: Sequence[str | None],
        covering: Callable[[str], frozenset[str]],
    ) -> OrderCalendars:
        """The calendars of orders handled by `units` in `districts` (one each), the names
        each unit answers to given by `covering`."""
        if not units or not calendar.local_closures:
            return cls.one(calendar, len(units))
        places: dict[tuple[str, str | None], int] = {}
        codes = np.fromiter(
            (places.setdefault(p, len(places)) for p in zip(units, districts, strict=True)),
            dtype=np.int64,
            count=len(units),
        )
        found: dict[int, int] = {}
        calendars: list[WorkingCalendar] = []
        of_place = np.zeros(len(places), dtype=np.int64)
        for (unit, district), code in places.items():
            at = calendar.at(Place(covering(unit), district))
            if id(at) not in found:
                found[id(at)] = len(calendars)
                calendars.append(at)
            of_place[code] = found[id(at)]
        return cls(calendars, of_place[codes])

    def __getitem__(self, row: int) -> WorkingCalendar:
        """Order `row`'s calendar."""
        return self.calendars[int(self.key[row])]

    def ordinals(self, days: Days, rows: Days | None = None) -> Days:
        """`ordinal` of each of `days` on its order's calendar: order i's (`rows`: the order
        of each day, for a column of another length such as extensions)."""
        if len(self.calendars) == 1:
            return self.calendars[0].ordinals(days)
        key = self.key if rows is None else self.key[rows]
        found: Days = self._cumulative[key, _indices(days)]
        return found

    def working_days(self, ordinals: Days, rows: Days | None = None) -> Days:
        """`working_day` of each of `ordinals` on its order's calendar (see `ordinals`)."""
        if len(self.calendars) == 1:
            return self.calendars[0].working_days(ordinals)
        key = self.key if rows is None else self.key[rows]
        if ordinals.size and (
            int(ordinals.min()) < 1 or bool((ordinals > self._lengths[key]).any())
        ):
            raise CalendarError(f"a deadline falls outside the working-day calendar ({_RANGE})")
        found: Days = self._offsets[key, ordinals - 1] + _FIRST_ORD
        return found

    def working_on(self, day: date) -> npt.NDArray[np.bool_]:
        """Whether `day` is a working day on each order's calendar."""
        working = np.asarray([c.is_working_day(day) for c in self.calendars], dtype=bool)
        found: npt.NDArray[np.bool_] = working[self.key]
        return found

    @cached_property
    def _cumulative(self) -> Days:
        return np.stack([c._cumulative_array for c in self.calendars])

    @cached_property
    def _lengths(self) -> Days:
        return np.asarray([len(c._offsets) for c in self.calendars], dtype=np.int64)

    @cached_property
    def _offsets(self) -> Days:
        table = np.zeros((len(self.calendars), int(self._lengths.max())), dtype=np.int64)
        for row, c in enumerate(self.calendars):
            table[row, : len(c._offsets)] = c._offsets_array
        return table
