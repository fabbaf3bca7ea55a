"""The working-day calendar (工作日), domain.md §4.

Weekends are off unless they are make-up workdays (调休上班); the days of a statutory
holiday period (法定节假日) are off; a local closure (e.g. a typhoon day) turns a working
day off. A year with no published schedule (国务院办公厅 notice, usually out in November)
knows its weekends and, from 2025, its statutory holidays (computed, `statutory_holidays`);
its bridge days and make-up days are never guessed: it reports `published=False` and the
caller decides whether to warn or refuse.

Working days are numbered from the epoch (2000-01-01) so that deadline arithmetic is a
list lookup: `ordinal(d)` is the count of working days up to and including `d`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    "Closure",
    "DayKind",
    "DayStatus",
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
class Closure:
    """A local closure (停工, e.g. a typhoon day): a working day that is off."""

    day: date
    reason: str


@dataclass(frozen=True)
class DayStatus:
    """What the calendar knows about one day."""

    day: date
    kind: DayKind
    is_working: bool
    name: str | None  # holiday name / make-up workday's holiday / closure reason
    published: bool  # False: no published schedule; weekends and statutory holidays only


class WorkingCalendar:
    """Working days 2000-01-01 … 2099-12-31 from published schedules and closures.

    A later schedule for the same year replaces an earlier one (user data overrides the
    package's); a later closure of the same day replaces an earlier one. A closure of a
    day that is not a working day anyway has no effect.
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
        for day in self._closures:
            working[day.toordinal() - _FIRST_ORD] = 0
        self._working = working
        # _cumulative[i]: working days in [FIRST_DAY, FIRST_DAY + i] (the ordinal).
        self._cumulative: list[int] = list(accumulate(working))
        # _offsets[k - 1]: offset from FIRST_DAY of the working day whose ordinal is k.
        self._offsets: list[int] = [i for i, w in enumerate(working) if w]

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
        if is_working and closure is not None:
            kind, name, is_working = DayKind.CLOSURE, closure.reason, False
        return DayStatus(day=day, kind=kind, is_working=is_working, name=name, published=published)

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
        index = days - _FIRST_ORD
        if index.size and (int(index.min()) < 0 or int(index.max()) >= _DAYS):
            bad = int(days[(index < 0) | (index >= _DAYS)][0])
            raise _out_of_range(date.fromordinal(max(bad, 1)))
        return self._cumulative_array[index]

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
