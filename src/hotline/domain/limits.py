"""The "1、5、13" time limits of orders, on the working-day calendar (domain.md §5).

A limit of N working days ends at the end of day N, day 1 being the first
working day after the day of receipt: an act on date `e` is in time iff
`ordinal(e) - ordinal(received) <= N`. Which limit applies, and the 12315
centre's feedback day (standard-2017: 含12315中心向市市民服务热线反馈时间一个工作日),
are rule parameters read from `rubrics/time-limits.toml`, never constants here.

The rules are evaluated column-wise (`evaluate`) over many orders at once, so a
year of orders takes milliseconds; `check_limits` is the same evaluation for
one order, with the notes a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.domain.calendar import Days, WorkingCalendar
from hotline.domain.facts import NONE, FactColumns, StatusCode, fold
from hotline.domain.order import Order, OrderStatus, Returned, ReturnRejected
from hotline.domain.vocabulary import Channel, Kind

Flags = npt.NDArray[np.bool_]


class CloseLimit(BaseModel):
    """The close limit (办结时限) for orders matching `channel` and `kind` (None: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel | None = None
    kind: Kind | None = None
    days: int = Field(ge=1, le=365)
    feedback_allowance: bool = False
    """Whether the 12315 centre's feedback day(s) come off this limit."""


class TimeLimitRules(BaseModel):
    """The parameters of the 1·5·13 rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_contact_days: int = Field(ge=1, le=30)
    """先行联系: first contact within this many working days."""
    return_days: int = Field(ge=1, le=30)
    """退单: an out-of-jurisdiction order is returned within this many working days."""
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


class LimitName(StrEnum):
    FIRST_CONTACT = "first_contact"
    RETURN = "return"
    CLOSE = "close"


class LimitStatus(IntEnum):
    """Where an order stands against a limit (stored as a small int in columns)."""

    PENDING = 0
    """Not done yet; the limit has not passed."""
    MET = 1
    MISSED = 2
    """Done late, or never done and the order is no longer open."""
    OVERDUE = 3
    """Not done, the order is open, and the limit has passed."""
    NOT_REQUIRED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


DECIDED = (LimitStatus.MET, LimitStatus.MISSED, LimitStatus.OVERDUE)
"""The statuses a rate counts: the limit was met, or it has passed."""


@dataclass(frozen=True)
class Timelines:
    """What the limits need to know of N orders, column-wise.

    Day columns hold `date.toordinal()` numbers, `NONE` where there is no such event.
    Extensions are a separate, chronological list of (order index, applied, until).
    """

    channel: Days
    kind: Days
    status: Days
    received: Days
    contact: Days
    returned: Days
    """The first return's day."""
    out_of_jurisdiction: Flags
    return_rejected: Flags
    closed: Days
    no_reply_requested: Flags
    extension_order: Days
    extension_applied: Days
    extension_until: Days
    accepted: Days
    """受理 (12315, SAMR Order No. 20): the day the complaint was accepted."""
    declined: Days
    """不予受理: the day it was declined."""
    mediation_ended: Days
    """调解终结: the day mediation ended."""
    case_decided: Days
    """立案决定: the day the case was decided (filed or not)."""
    case_filed: Flags
    acceptance_notified: Days
    """告知: the day the complainant was told of the acceptance decision (accepted or
    declined)."""
    mediation_notified: Days
    case_notified: Days

    @classmethod
    def of(cls, orders: list[Order]) -> Timelines:
        """The timelines of aggregates (for one order's view, and tests)."""
        return cls.of_facts(FactColumns.of([fold(order) for order in orders]))

    @classmethod
    def of_facts(cls, facts: FactColumns) -> Timelines:
        """The timelines of orders' facts: the one way they are built, from aggregates and
        from the read model alike."""
        column = facts.column
        extensions = facts.extensions.T
        return cls(
            channel=column("channel"),
            kind=column("kind"),
            status=column("status"),
            received=column("received_day"),
            contact=column("contact_day"),
            returned=column("returned_day"),
            out_of_jurisdiction=column("out_of_jurisdiction").astype(bool),
            return_rejected=column("return_rejected").astype(bool),
            closed=column("closed_day"),
            no_reply_requested=column("no_reply_requested").astype(bool),
            extension_order=extensions[0],
            extension_applied=extensions[1],
            extension_until=extensions[2],
            accepted=column("accepted_day"),
            declined=column("declined_day"),
            mediation_ended=column("mediation_day"),
            case_decided=column("case_day"),
            case_filed=column("case_filed").astype(bool),
            acceptance_notified=column("acceptance_notified_day"),
            mediation_notified=column("mediation_notified_day"),
            case_notified=column("case_notified_day"),
        )


def _returns(order: Order) -> list[Returned]:
    return order.events_of(Returned)


@dataclass(frozen=True)
class Limits:
    """The three checks of N orders, column-wise. Due columns are day numbers."""

    contact_status: Days
    contact_due: Days
    contact_day: Days
    """The working day number on which contact was made (-1: none)."""
    return_status: Days
    return_due: Days
    return_day: Days
    close_status: Days
    close_due: Days
    close_day: Days
    close_days: Days
    """The close limit in working days that applied (before any extension)."""
    feedback_cut: Days
    """Working days taken off the close limit for the 12315 centre's feedback."""
    extended_until: Days
    """The counted extension's promised date, NONE if none counted."""
    extension_late: Flags
    """An extension was applied for after the order's own close limit: not counted."""
    extension_short: Flags
    """The counted extension would not move the limit later: ignored."""


def evaluate(
    timelines: Timelines, calendar: WorkingCalendar, rules: TimeLimitRules, today: date
) -> Limits:
    """The first-contact, return and close checks of every order as of `today`."""
    t = timelines
    n = len(t.received)
    now = today.toordinal()
    start = calendar.ordinals(t.received)
    is_open = t.status == StatusCode.OPEN

    def ordinals_of(days: Days) -> Days:
        return np.where(
            days != NONE, calendar.ordinals(np.where(days != NONE, days, t.received)), 0
        )

    def timed(due_ordinal: Days, done: Days) -> tuple[Days, Days, Days]:
        due = calendar.working_days(due_ordinal)
        done_ordinal = ordinals_of(done)
        status = np.where(
            done != NONE,
            np.where(done_ordinal <= due_ordinal, LimitStatus.MET, LimitStatus.MISSED),
            np.where(
                ~is_open,
                LimitStatus.MISSED,
                np.where(now > due, LimitStatus.OVERDUE, LimitStatus.PENDING),
            ),
        )
        day = np.where(done != NONE, done_ordinal - start, -1)
        return status.astype(np.int64), due, day

    # 退单: an out-of-jurisdiction return within `return_days`.
    return_status, return_due, return_day = timed(start + rules.return_days, t.returned)
    not_returned = t.returned == NONE
    return_status = np.select(
        [
            not_returned & is_open & (now <= return_due),
            not_returned | t.return_rejected | ~t.out_of_jurisdiction,
        ],
        [LimitStatus.PENDING, LimitStatus.NOT_REQUIRED],
        return_status,
    )

    # 先行联系: first contact within `first_contact_days`, unless returned in time or the
    # citizen asked for no reply.
    contact_status, contact_due, contact_day = timed(start + rules.first_contact_days, t.contact)
    contact_status = np.where(
        (return_status == LimitStatus.MET)
        | ((t.status == StatusCode.CLOSED) & t.no_reply_requested),
        LimitStatus.NOT_REQUIRED,
        contact_status,
    )

    # 办结: within the close limit, or by a timely extension's promised date.
    close_days = np.zeros(n, dtype=np.int64)
    feedback_cut = np.zeros(n, dtype=np.int64)
    unset = np.ones(n, dtype=bool)
    for limit in rules.close:
        match = unset.copy()
        if limit.channel is not None:
            match &= t.channel == limit.channel.code
        if limit.kind is not None:
            match &= t.kind == limit.kind.code
        close_days[match] = limit.days
        if limit.feedback_allowance:
            feedback_cut[match] = rules.feedback_allowance_days
        unset &= ~match
    due_ordinal = start + close_days - feedback_cut

    extended_until = np.zeros(n, dtype=np.int64)
    extension_late = np.zeros(n, dtype=bool)
    extension_short = np.zeros(n, dtype=bool)
    if t.extension_order.size:
        owner = t.extension_order
        applied_day = calendar.ordinals(t.extension_applied) - start[owner]
        # 延期: applied for within the order's own close limit (5 for a 回访复核单, 13 else).
        timely = applied_day <= close_days[owner]
        extension_late[owner[~timely]] = True
        # The latest timely extension counts (rows are chronological).
        latest = np.full(n, -1, dtype=np.int64)
        rows = np.arange(owner.size, dtype=np.int64)
        np.maximum.at(latest, owner[timely], rows[timely])
        has = latest >= 0
        cut = rules.feedback_allowance_days if rules.extension_feedback_allowance else 0
        until = t.extension_until[latest[has]]
        promised = calendar.ordinals(until) - cut
        extends = promised > due_ordinal[has]
        chosen = np.flatnonzero(has)
        due_ordinal[chosen[extends]] = promised[extends]
        extended_until[chosen[extends]] = until[extends]
        extension_short[chosen[~extends]] = True
    close_status, close_due, close_day = timed(due_ordinal, t.closed)
    # A returned order, and a declined one (不予受理: it ends with no close), need no close.
    close_status = np.where(
        (t.status == StatusCode.RETURNED) | (t.status == StatusCode.DECLINED),
        LimitStatus.NOT_REQUIRED,
        close_status,
    )
    return Limits(
        contact_status=contact_status.astype(np.int64),
        contact_due=contact_due,
        contact_day=contact_day,
        return_status=return_status.astype(np.int64),
        return_due=return_due,
        return_day=return_day,
        close_status=close_status.astype(np.int64),
        close_due=close_due,
        close_day=close_day,
        close_days=close_days,
        feedback_cut=feedback_cut,
        extended_until=extended_until,
        extension_late=extension_late,
        extension_short=extension_short,
    )


@dataclass(frozen=True)
class LimitCheck:
    """Where one order stands against one limit."""

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
    """The first-contact, return and close checks of one order as of `today`."""
    timelines = Timelines.of([order])
    limits = evaluate(timelines, calendar, rules, today)
    received = order.received_at.date()

    def check(
        name: LimitName, status: Days, due: Days, done: Days, day: Days, note: str
    ) -> LimitCheck:
        state = LimitStatus(int(status[0]))
        done_day = date.fromordinal(int(done[0])) if done[0] != NONE else None
        day_number = int(day[0]) if day[0] >= 0 else None
        if state is LimitStatus.NOT_REQUIRED:
            return LimitCheck(name, state, None, done_day, day_number, False, note)
        due_day = date.fromordinal(int(due[0]))
        provisional = bool(calendar.unpublished_years(received, due_day))
        return LimitCheck(name, state, due_day, done_day, day_number, provisional, note)

    t = timelines
    return [
        check(LimitName.FIRST_CONTACT, limits.contact_status, limits.contact_due, t.contact,
              limits.contact_day, _contact_note(limits)),
        check(LimitName.RETURN, limits.return_status, limits.return_due, t.returned,
              limits.return_day, _return_note(order)),
        check(LimitName.CLOSE, limits.close_status, limits.close_due, t.closed,
              limits.close_day, _close_note(order, limits, rules)),
    ]  # fmt: skip


def _contact_note(limits: Limits) -> str:
    if limits.contact_status[0] != LimitStatus.NOT_REQUIRED:
        return ""
    if limits.return_status[0] == LimitStatus.MET:
        return "returned in time"
    return "citizen asked for no reply"


def _return_note(order: Order) -> str:
    returns = _returns(order)
    if not returns:
        return (
            "if out of jurisdiction, return by then"
            if order.status is OrderStatus.OPEN
            else "not returned"
        )
    if order.events_of(ReturnRejected):
        return "return rejected (二次退回): the order was the unit's"
    if returns[0].out_of_jurisdiction:
        return "returned; out of jurisdiction"
    return "returned; not out of jurisdiction"


def _close_note(order: Order, limits: Limits, rules: TimeLimitRules) -> str:
    if order.status is OrderStatus.RETURNED:
        return "returned to the hotline"
    if order.status is OrderStatus.DECLINED:
        return "declined (不予受理): it needs no close"
    cut = int(limits.feedback_cut[0])
    note = f"{int(limits.close_days[0])} working days"
    if cut:
        note += f" less {cut} for the 12315 centre's feedback"
    if limits.extended_until[0] != NONE:
        note = f"extended to {date.fromordinal(int(limits.extended_until[0]))}"
        if rules.extension_feedback_allowance and rules.feedback_allowance_days:
            note += f", less {rules.feedback_allowance_days} for the 12315 centre's feedback"
    elif limits.extension_short[0]:
        note += "; the extension does not extend it"
    if limits.extension_late[0]:
        note += f"; an extension applied for after day {int(limits.close_days[0])} is not counted"
    return note
