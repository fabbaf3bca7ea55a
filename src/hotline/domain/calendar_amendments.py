"""The users' amendments to the working-day calendar, kept as events.

The official schedules come with the `chinesecalendar` package; what users add
lives in the store beside the orders: a newly published year (the State
Council publishes each year's schedule around November) and local closures
such as a typhoon day. Deadlines are computed at query time from the
calendar as it stands, so an amendment changes past orders' deadlines at the
next query, with no replay.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from typing import Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from hotline.domain import lengths
from hotline.domain.aggregate import LINES, Aggregate, CreationEvent, DomainEvent
from hotline.domain.calendar import SHANGHAI_DISTRICTS, Closure, YearSchedule
from hotline.domain.errors import CalendarError, InvalidInput

CALENDAR_ID: UUID = uuid5(NAMESPACE_URL, "https://hotline.invalid/calendar")

Text = Annotated[str, Field(min_length=1, max_length=500), LINES]


class AmendmentsStarted(CreationEvent):
    """The first amendment ever made starts the amendments' history."""

    name = "amendments_started"


class YearPublished(DomainEvent):
    """A year's official schedule (国务院办公厅 notice), entered by a user."""

    name = "year_published"
    year: int = Field(ge=2000, le=2099)
    holidays: dict[date, str]
    workdays: dict[date, str]
    source: Text

    def apply(self, amendments: CalendarAmendments) -> None:
        amendments.years[self.year] = YearSchedule(
            self.year, dict(self.holidays), dict(self.workdays), self.source
        )


class ClosureAdded(DomainEvent):
    """A local closure (e.g. 台风停工): a working day that is off, for the whole city or only
    for the orders of some units (registry names) or districts (区). An event recorded
    before closures had a scope has neither: the whole city's, as it was."""

    name = "closure_added"
    day: date
    reason: Text
    units: tuple[Annotated[str, Field(min_length=1, max_length=lengths.UNIT_NAME)], ...] = ()
    districts: tuple[Annotated[str, Field(min_length=1, max_length=lengths.PLACE_NAME)], ...] = ()

    def apply(self, amendments: CalendarAmendments) -> None:
        amendments.closures[self.day] = Closure(
            self.day, self.reason, frozenset(self.units), frozenset(self.districts)
        )


class ClosureWithdrawn(DomainEvent):
    """A closure entered by mistake is withdrawn."""

    name = "closure_withdrawn"
    day: date
    reason: Text

    def apply(self, amendments: CalendarAmendments) -> None:
        del amendments.closures[self.day]


class CalendarAmendments(Aggregate):
    """All users' additions to the official calendar."""

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.years: dict[int, YearSchedule] = {}
        self.closures: dict[date, Closure] = {}

    @classmethod
    def start(cls, at: datetime) -> CalendarAmendments:
        return cls._create(CALENDAR_ID, AmendmentsStarted, at=at)

    def publish_year(self, at: datetime, schedule: YearSchedule) -> None:
        self._record(
            self._next(
                YearPublished,
                at=at,
                year=schedule.year,
                holidays=dict(schedule.holidays),
                workdays=dict(schedule.workdays),
                source=schedule.source,
            )
        )

    def add_closure(self, at: datetime, closure: Closure) -> None:
        """One closure a day: its scope lists every unit and district it closes, a district
        being one of Shanghai's 16 as orders spell it."""
        unknown = sorted(closure.districts - set(SHANGHAI_DISTRICTS))
        if unknown:
            close = difflib.get_close_matches(unknown[0], SHANGHAI_DISTRICTS, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InvalidInput(
                f"unknown district '{unknown[0]}'{hint}; Shanghai's districts are "
                f"{'、'.join(SHANGHAI_DISTRICTS)}"
            )
        if closure.day in self.closures:
            raise CalendarError(
                f"{closure.day} is already closed ({self.closures[closure.day].reason}); "
                "withdraw it first to change the reason or the scope"
            )
        self._record(
            self._next(
                ClosureAdded,
                at=at,
                day=closure.day,
                reason=closure.reason,
                units=tuple(sorted(closure.units)),
                districts=tuple(sorted(closure.districts)),
            )
        )

    def withdraw_closure(self, at: datetime, day: date, reason: str) -> None:
        if day not in self.closures:
            raise CalendarError(f"{day} has no local closure to withdraw")
        self._record(self._next(ClosureWithdrawn, at=at, day=day, reason=reason))


AmendmentsStarted.aggregate_class = CalendarAmendments
