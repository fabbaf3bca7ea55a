"""The "1、5、13" time limits of an order, on the working-day calendar (DOMAIN §5).

A limit of N working days ends at the end of day N, day 1 being the first
working day after the day of receipt: an act on date `e` is in time iff
`ordinal(e) - ordinal(received) <= N`. Which limit applies, and the 12315
centre's feedback day (seed 004: 含12315中心向市市民服务热线反馈时间一个工作日),
are rule parameters read from `rubrics/time-limits.toml`, never constants here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.order import Extended, Order, OrderStatus, Returned, ReturnRejected
from hotline.domain.vocabulary import Channel, Kind


class CloseLimit(BaseModel):
    """The close limit (办结时限) for orders matching `channel` and `kind` (None: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel | None = None
    kind: Kind | None = None
    days: int = Field(ge=1, le=365)
    feedback_allowance: bool = False
    """Whether the 12315 centre's feedback day(s) come off this limit."""

    def matches(self, channel: Channel, kind: Kind) -> bool:
        return self.channel in (None, channel) and self.kind in (None, kind)


class TimeLimitRules(BaseModel):
    """The parameters of the 1·5·13 rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_contact_days: int = Field(ge=1, le=30)
    """先行联系: first contact within this many working days."""
    return_days: int = Field(ge=1, le=30)
    """退单: an out-of-jurisdiction order is returned within this many working days."""
    extension_request_days: int = Field(ge=1, le=365)
    """延期: an extension counts only if applied for within this many working days."""
    feedback_allowance_days: int = Field(ge=0, le=10)
    """[reading] the 12315 centre's feedback time to the 12345 hotline, in working days."""
    extension_feedback_allowance: bool
    """Whether the feedback allowance comes off an extension's promised date."""
    close: tuple[CloseLimit, ...] = Field(min_length=1)
    """Close limits, first match wins; the last must match every order."""

    @model_validator(mode="after")
    def _last_close_limit_matches_all(self) -> TimeLimitRules:
        last = self.close[-1]
        if last.channel is not None or last.kind is not None:
            raise ValueError("the last [[close]] entry must have no channel and no kind")
        return self

    def close_limit(self, channel: Channel, kind: Kind) -> CloseLimit:
        return next(limit for limit in self.close if limit.matches(channel, kind))


class LimitName(StrEnum):
    FIRST_CONTACT = "first_contact"
    RETURN = "return"
    CLOSE = "close"


class LimitStatus(StrEnum):
    PENDING = "pending"
    """Not done yet; the limit has not passed."""
    MET = "met"
    MISSED = "missed"
    """Done late, or never done and the order is no longer open."""
    OVERDUE = "overdue"
    """Not done, the order is open, and the limit has passed."""
    NOT_REQUIRED = "not_required"


@dataclass(frozen=True)
class LimitCheck:
    """Where an order stands against one limit."""

    limit: LimitName
    status: LimitStatus
    due: date | None
    """The last day to act, or None where the limit does not apply."""
    done: date | None
    day: int | None
    """The working day (1 = the first after receipt) on which it was done."""
    provisional: bool
    """The due date runs into a year with no published holiday schedule."""
    note: str = ""


def check_limits(
    order: Order, calendar: WorkingCalendar, rules: TimeLimitRules, today: date
) -> list[LimitCheck]:
    """The first-contact, return and close checks of `order` as of `today`."""
    return _Checker(order, calendar, rules, today).checks()


class _Checker:
    """Evaluates one order's limits; day numbers count from its receipt date."""

    def __init__(
        self, order: Order, calendar: WorkingCalendar, rules: TimeLimitRules, today: date
    ) -> None:
        self.order = order
        self.calendar = calendar
        self.rules = rules
        self.today = today
        self.received = order.received_at.date()
        self.start = calendar.ordinal(self.received)

    def checks(self) -> list[LimitCheck]:
        returned = self.return_check()
        rejected = bool(self.order.events_of(ReturnRejected))
        return [self.contact_check(returned, rejected), returned, self.close_check()]

    def return_check(self) -> LimitCheck:
        """退单: an out-of-jurisdiction order is returned within `return_days`."""
        returns: list[Returned] = self.order.events_of(Returned)
        deadline = self.due(self.rules.return_days)
        if not returns:
            if self.order.status is OrderStatus.OPEN and self.today <= deadline:
                return self.timed(
                    LimitName.RETURN, deadline, None, "if out of jurisdiction, return by then"
                )
            return self.not_required(LimitName.RETURN, None, "not returned")
        first = returns[0]
        done = first.at.date()
        if self.order.events_of(ReturnRejected):
            return self.not_required(
                LimitName.RETURN, done, "return rejected (二次退回): the order was the unit's"
            )
        if not first.out_of_jurisdiction:
            return self.not_required(LimitName.RETURN, done, "returned; not out of jurisdiction")
        return self.timed(LimitName.RETURN, deadline, done, "returned; out of jurisdiction")

    def contact_check(self, returned: LimitCheck, rejected: bool) -> LimitCheck:
        """先行联系: first contact within `first_contact_days`."""
        contact = self.order.first_contact
        done = contact.at.date() if contact else None
        if returned.status is LimitStatus.MET and not rejected:
            return self.not_required(LimitName.FIRST_CONTACT, done, "returned in time")
        if self.order.closed is not None and self.order.closed.no_reply_requested:
            return self.not_required(LimitName.FIRST_CONTACT, done, "citizen asked for no reply")
        return self.timed(LimitName.FIRST_CONTACT, self.due(self.rules.first_contact_days), done)

    def close_check(self) -> LimitCheck:
        """办结: within the close limit, or by a timely extension's promised date."""
        if self.order.status is OrderStatus.RETURNED:
            return self.not_required(LimitName.CLOSE, None, "returned to the hotline")
        rules = self.rules
        limit = rules.close_limit(self.order.channel, self.order.kind)
        allowance = rules.feedback_allowance_days
        days = limit.days - (allowance if limit.feedback_allowance else 0)
        deadline = self.due(days)
        note = f"{limit.days} working days"
        if limit.feedback_allowance and allowance:
            note += f" less {allowance} for the 12315 centre's feedback"
        for extension in reversed(self.order.events_of(Extended)):
            applied = self.day_of(extension.at.date())
            if applied > rules.extension_request_days:
                note += (
                    f"; extension applied for on day {applied}, after day "
                    f"{rules.extension_request_days}: not counted"
                )
                continue
            cut = allowance if rules.extension_feedback_allowance else 0
            promised = self.calendar.working_day(self.calendar.ordinal(extension.until) - cut)
            if promised <= deadline:
                note += f"; extension to {extension.until.isoformat()} does not extend it"
                break
            deadline = promised
            note = f"extended to {extension.until.isoformat()}"
            if cut:
                note += f", less {cut} for the 12315 centre's feedback"
            break
        closed = self.order.closed.at.date() if self.order.closed else None
        return self.timed(LimitName.CLOSE, deadline, closed, note)

    def due(self, days: int) -> date:
        return self.calendar.working_day(self.start + days)

    def day_of(self, done: date) -> int:
        return self.calendar.ordinal(done) - self.start

    def timed(
        self, limit: LimitName, deadline: date, done: date | None, note: str = ""
    ) -> LimitCheck:
        provisional = bool(self.calendar.unpublished_years(self.received, deadline))
        if done is not None:
            status = LimitStatus.MET if done <= deadline else LimitStatus.MISSED
            return LimitCheck(limit, status, deadline, done, self.day_of(done), provisional, note)
        if self.order.status is not OrderStatus.OPEN:
            status = LimitStatus.MISSED
        elif self.today > deadline:
            status = LimitStatus.OVERDUE
        else:
            status = LimitStatus.PENDING
        return LimitCheck(limit, status, deadline, None, None, provisional, note)

    def not_required(self, limit: LimitName, done: date | None, note: str) -> LimitCheck:
        day = self.day_of(done) if done else None
        return LimitCheck(limit, LimitStatus.NOT_REQUIRED, None, done, day, False, note)
