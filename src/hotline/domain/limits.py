"""The time limits of orders, on the working-day calendar (domain.md §5): the "1、5、13" set
of orders that came through 12345, and SAMR Order No. 20's set (市场监督管理投诉举报处理暂行办法)
of 12315 complaints and reports; which set governs which order is data too.

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

from hotline.domain.calendar import Days, OrderCalendars, WorkingCalendar
from hotline.domain.facts import NONE, FactColumns, StatusCode, fold
from hotline.domain.order import Extended, Order, OrderStatus, Returned, ReturnRejected
from hotline.domain.vocabulary import Channel, Kind, MediationOutcome

Flags = npt.NDArray[np.bool_]


class CloseLimit(BaseModel):
    """The close limit (办结时限) for orders matching `channel` and `kind` (None: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel | None = None
    kind: Kind | None = None
    days: int = Field(ge=1, le=365)
    feedback_allowance: bool = False
    """Whether the 12315 centre's feedback day(s) come off this limit."""


class DeadlineSet(StrEnum):
    """A set of time limits an order is judged by."""

    HOTLINE_12345 = "1-5-13"
    """先行联系 1, 退单 1, 办结 5 / 13 working days (12345 转办件)."""
    ORDER_20 = "order-20"
    """SAMR Order No. 20: 受理 7, 调解 45, 举报核查 15 (30), 告知."""
    NONE = "none"
    """No time limit governs the order."""

    @property
    def code(self) -> int:
        return list(DeadlineSet).index(self)


class Governs(BaseModel):
    """The deadline set of orders matching `channel` and `kind` (None: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel | None = None
    kind: Kind | None = None
    set: DeadlineSet


class Order20Limits(BaseModel):
    """SAMR Order No. 20's limits, in working days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    acceptance_days: int = Field(ge=1, le=60)
    """受理: a complaint accepted or declined, and the complainant told, within this."""
    mediation_days: int = Field(ge=1, le=365)
    """调解: mediation (the complaint's close limit) ends within this of acceptance."""
    termination_notice_days: int = Field(ge=1, le=60)
    """终止调解: the parties told within this of the termination."""
    report_check_days: int = Field(ge=1, le=365)
    """举报核查: a report checked and a case decision made within this of receipt."""
    report_check_extended_days: int = Field(ge=1, le=365)
    """… or within this with an approved extension (延期)."""
    report_notice_days: int = Field(ge=1, le=60)
    """举报告知: a reporter who left contact details told within this of the decision."""

    @model_validator(mode="after")
    def _extension_extends(self) -> Order20Limits:
        if self.report_check_extended_days < self.report_check_days:
            raise ValueError("report_check_extended_days is shorter than report_check_days")
        return self


class TimeLimitRules(BaseModel):
    """The parameters of the 1·5·13 rules and of Order No. 20's, and which governs what."""

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
    order_20: Order20Limits
    governs: tuple[Governs, ...] = Field(min_length=1)
    """Which set governs an order, first match wins; an order no entry matches has none."""

    @model_validator(mode="after")
    def _last_close_limit_matches_all(self) -> TimeLimitRules:
        last = self.close[-1]
        if last.channel is not None or last.kind is not None:
            raise ValueError("the last [[close]] entry must have no channel and no kind")
        return self

    def deadline_sets(self, channel: Days, kind: Days) -> Days:
        """Each order's `DeadlineSet` code, by its channel and kind codes."""
        found = np.full(len(channel), DeadlineSet.NONE.code, dtype=np.int64)
        unset = np.ones(len(channel), dtype=bool)
        for entry in self.governs:
            match = unset.copy()
            if entry.channel is not None:
                match &= channel == entry.channel.code
            if entry.kind is not None:
                match &= kind == entry.kind.code
            found[match] = entry.set.code
            unset &= ~match
        return found


class LimitName(StrEnum):
    FIRST_CONTACT = "first_contact"
    RETURN = "return"
    CLOSE = "close"
    ACCEPTANCE = "acceptance"
    """受理 (Order 20): accepted or declined."""
    ACCEPTANCE_NOTICE = "acceptance_notice"
    """The complainant told of the acceptance decision."""
    TERMINATION_NOTICE = "termination_notice"
    """The parties told of a terminated mediation (终止调解)."""
    REPORT_CHECK = "report_check"
    """举报核查: a report checked and its case decided (立案决定)."""
    REPORT_NOTICE = "report_notice"
    """The reporter told of the case decision."""


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
    mediation_terminated: Flags
    """Mediation ended with 终止调解 (not an agreement)."""
    contact_given: Flags
    """The citizen left contact details (a phone number)."""

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
            mediation_terminated=column("mediation_outcome") == MediationOutcome.TERMINATED.code,
            contact_given=column("contact_given").astype(bool),
        )


def _returns(order: Order) -> list[Returned]:
    return order.events_of(Returned)


@dataclass(frozen=True)
class Limits:
    """Every limit of N orders, column-wise (one not required of an order where its set has
    no such limit). Due columns are day numbers."""

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
    deadline_set: Days
    """The `DeadlineSet` code that governs each order."""
    acceptance_status: Days
    acceptance_due: Days
    acceptance_day: Days
    acceptance_notice_status: Days
    acceptance_notice_due: Days
    acceptance_notice_day: Days
    termination_notice_status: Days
    termination_notice_due: Days
    termination_notice_day: Days
    report_check_status: Days
    report_check_due: Days
    report_check_day: Days
    report_notice_status: Days
    report_notice_due: Days
    report_notice_day: Days


def evaluate(
    timelines: Timelines, calendars: OrderCalendars, rules: TimeLimitRules, today: date
) -> Limits:
    """Every limit of every order as of `today`, by the deadline set that governs it, each
    counted on its order's calendar (a local closure is off only where it applies); a
    limit of another set (or of none) is not required."""
    t = timelines
    n = len(t.received)
    now = today.toordinal()
    start = calendars.ordinals(t.received)
    is_open = t.status == StatusCode.OPEN
    deadline_set = rules.deadline_sets(t.channel, t.kind)
    by_12345 = deadline_set == DeadlineSet.HOTLINE_12345.code
    by_order_20 = deadline_set == DeadlineSet.ORDER_20.code
    complaint = by_order_20 & (t.kind == Kind.COMPLAINT.code)
    report = by_order_20 & (t.kind == Kind.REPORT.code)
    o20 = rules.order_20

    def ordinals_of(days: Days) -> Days:
        return np.where(
            days != NONE, calendars.ordinals(np.where(days != NONE, days, t.received)), 0
        )

    def timed(due_ordinal: Days, done: Days) -> tuple[Days, Days, Days]:
        due = calendars.working_days(due_ordinal)
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

    def only(required: Flags, status: Days) -> Days:
        found: Days = np.where(required, status, LimitStatus.NOT_REQUIRED).astype(np.int64)
        return found

    def after(days: Days) -> Days:
        """The working-day ordinal of each of `days`, the receipt's where there is none."""
        found: Days = np.where(days != NONE, ordinals_of(days), start)
        return found

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
    return_status = only(by_12345, return_status)

    # 先行联系: first contact within `first_contact_days`, unless returned in time or the
    # citizen asked for no reply.
    contact_status, contact_due, contact_day = timed(start + rules.first_contact_days, t.contact)
    contact_status = np.where(
        (return_status == LimitStatus.MET)
        | ((t.status == StatusCode.CLOSED) & t.no_reply_requested),
        LimitStatus.NOT_REQUIRED,
        contact_status,
    )
    contact_status = only(by_12345, contact_status)

    # 受理 (Order 20): a complaint accepted or declined within `acceptance_days`, and told.
    decided = np.where(t.accepted != NONE, t.accepted, t.declined)
    acceptance_ordinal = start + o20.acceptance_days
    acceptance_status, acceptance_due, acceptance_day = timed(acceptance_ordinal, decided)
    acceptance_status = only(complaint, acceptance_status)
    notice_status, notice_due, notice_day = timed(acceptance_ordinal, t.acceptance_notified)
    notice_status = only(complaint, notice_status)
    # 终止调解: the parties told within `termination_notice_days` of it.
    termination_ordinal = after(t.mediation_ended) + o20.termination_notice_days
    termination_status, termination_due, termination_day = timed(
        termination_ordinal, t.mediation_notified
    )
    termination_status = only(complaint & t.mediation_terminated, termination_status)

    # 举报: checked and its case decided within `report_check_days`, or the extended limit
    # if an extension was applied for within it.
    check_days = np.full(n, o20.report_check_days, dtype=np.int64)
    if t.extension_order.size:
        owner = t.extension_order
        applied = calendars.ordinals(t.extension_applied, owner) - start[owner]
        timely = report[owner] & (applied <= o20.report_check_days)
        check_days[owner[timely]] = o20.report_check_extended_days
    check_ordinal = start + check_days
    check_status, check_due, check_day = timed(check_ordinal, t.case_decided)
    check_status = only(report, check_status)
    # The reporter who left contact details told within `report_notice_days` of the decision.
    report_notice_ordinal = after(t.case_decided) + o20.report_notice_days
    report_notice_status, report_notice_due, report_notice_day = timed(
        report_notice_ordinal, t.case_notified
    )
    report_notice_status = only(
        report & t.contact_given & (t.case_decided != NONE), report_notice_status
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
    # Order 20: a complaint's close limit is the mediation limit, from its acceptance (until
    # it is accepted, from the acceptance limit); a report's is its check limit.
    feedback_cut[by_order_20] = 0
    close_days[complaint] = o20.mediation_days
    close_days[report] = check_days[report]
    mediation_start = np.where(t.accepted != NONE, after(t.accepted), acceptance_ordinal)
    due_ordinal = np.select(
        [complaint, report], [mediation_start + o20.mediation_days, check_ordinal],
        start + close_days - feedback_cut,
    )  # fmt: skip

    extended_until = np.zeros(n, dtype=np.int64)
    extension_late = np.zeros(n, dtype=bool)
    extension_short = np.zeros(n, dtype=bool)
    if t.extension_order.size:
        owner = t.extension_order
        counted = by_12345[owner]
        applied_day = calendars.ordinals(t.extension_applied, owner) - start[owner]
        # 延期: applied for within the order's own close limit (5 for a 回访复核单, 13 else).
        timely = counted & (applied_day <= close_days[owner])
        extension_late[owner[counted & ~timely]] = True
        # The latest timely extension counts (rows are chronological).
        latest = np.full(n, -1, dtype=np.int64)
        rows = np.arange(owner.size, dtype=np.int64)
        np.maximum.at(latest, owner[timely], rows[timely])
        has = latest >= 0
        cut = rules.feedback_allowance_days if rules.extension_feedback_allowance else 0
        until = t.extension_until[latest[has]]
        chosen = np.flatnonzero(has)
        promised = calendars.ordinals(until, chosen) - cut
        extends = promised > due_ordinal[has]
        due_ordinal[chosen[extends]] = promised[extends]
        extended_until[chosen[extends]] = until[extends]
        extension_short[chosen[~extends]] = True
    close_status, close_due, close_day = timed(due_ordinal, t.closed)
    # A returned order, and a declined one (不予受理: it ends with no close), need no close;
    # nor does an order no set governs.
    close_status = np.where(
        (t.status == StatusCode.RETURNED)
        | (t.status == StatusCode.DECLINED)
        | (deadline_set == DeadlineSet.NONE.code),
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
        deadline_set=deadline_set,
        acceptance_status=acceptance_status,
        acceptance_due=acceptance_due,
        acceptance_day=acceptance_day,
        acceptance_notice_status=notice_status,
        acceptance_notice_due=notice_due,
        acceptance_notice_day=notice_day,
        termination_notice_status=termination_status,
        termination_notice_due=termination_due,
        termination_notice_day=termination_day,
        report_check_status=check_status,
        report_check_due=check_due,
        report_check_day=check_day,
        report_notice_status=report_notice_status,
        report_notice_due=report_notice_due,
        report_notice_day=report_notice_day,
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


SET_LIMITS: dict[DeadlineSet, dict[Kind | None, tuple[LimitName, ...]]] = {
    DeadlineSet.HOTLINE_12345: {None: (LimitName.FIRST_CONTACT, LimitName.RETURN, LimitName.CLOSE)},
    DeadlineSet.ORDER_20: {
        Kind.COMPLAINT: (
            LimitName.ACCEPTANCE, LimitName.ACCEPTANCE_NOTICE, LimitName.CLOSE,
            LimitName.TERMINATION_NOTICE,
        ),
        Kind.REPORT: (LimitName.REPORT_CHECK, LimitName.CLOSE, LimitName.REPORT_NOTICE),
        None: (LimitName.CLOSE,),
    },
    DeadlineSet.NONE: {None: ()},
}  # fmt: skip
"""The limits shown of an order, by the set that governs it and its kind (None: any other)."""


def shown_limits(deadline_set: int, kind: int) -> tuple[LimitName, ...]:
    """The limits of an order governed by the set with code `deadline_set`, in order."""
    by_kind = SET_LIMITS[list(DeadlineSet)[deadline_set]]
    for found, names in by_kind.items():
        if found is not None and found.code == kind:
            return names
    return by_kind[None]


def limit_columns(limits: Limits, t: Timelines) -> dict[LimitName, tuple[Days, Days, Days, Days]]:
    """Each limit's (status, due, done, day) columns; done is the act's day (NONE: not yet)."""
    decided = np.where(t.accepted != NONE, t.accepted, t.declined)
    c = limits
    return {
        LimitName.FIRST_CONTACT: (c.contact_status, c.contact_due, t.contact, c.contact_day),
        LimitName.RETURN: (c.return_status, c.return_due, t.returned, c.return_day),
        LimitName.CLOSE: (c.close_status, c.close_due, t.closed, c.close_day),
        LimitName.ACCEPTANCE: (c.acceptance_status, c.acceptance_due, decided, c.acceptance_day),
        LimitName.ACCEPTANCE_NOTICE: (c.acceptance_notice_status, c.acceptance_notice_due,
                                      t.acceptance_notified, c.acceptance_notice_day),
        LimitName.TERMINATION_NOTICE: (c.termination_notice_status, c.termination_notice_due,
                                       t.mediation_notified, c.termination_notice_day),
        LimitName.REPORT_CHECK: (c.report_check_status, c.report_check_due, t.case_decided,
                                 c.report_check_day),
        LimitName.REPORT_NOTICE: (c.report_notice_status, c.report_notice_due, t.case_notified,
                                  c.report_notice_day),
    }  # fmt: skip


def short_extension(order: Order, calendar: WorkingCalendar, rules: TimeLimitRules) -> date | None:
    """The close limit's due date if the order's latest extension (延期) is counted (applied
    for within the close limit) yet does not move that date later, None else: an extension
    extends, so the service refuses one that would only be shown as "does not extend it".
    `calendar` is the order's own (`WorkingCalendar.at` its place)."""
    extensions = order.events_of(Extended)
    if not extensions:
        return None
    applied = extensions[-1].at.date()
    limits = evaluate(Timelines.of([order]), OrderCalendars.one(calendar, 1), rules, applied)
    applied_day = calendar.ordinal(applied) - calendar.ordinal(order.received_at.date())
    if limits.extension_short[0] and applied_day <= limits.close_days[0]:
        return date.fromordinal(int(limits.close_due[0]))
    return None


def check_limits(
    order: Order, calendar: WorkingCalendar, rules: TimeLimitRules, today: date
) -> list[LimitCheck]:
    """The checks of one order as of `today`, on its calendar (`WorkingCalendar.at` its
    place): those of the deadline set that governs it."""
    timelines = Timelines.of([order])
    limits = evaluate(timelines, OrderCalendars.one(calendar, 1), rules, today)
    received = order.received_at.date()
    columns = limit_columns(limits, timelines)
    notes = {
        LimitName.FIRST_CONTACT: _contact_note(limits),
        LimitName.RETURN: _return_note(order, limits, rules),
        LimitName.CLOSE: _close_note(order, limits, rules),
        LimitName.ACCEPTANCE: f"{rules.order_20.acceptance_days} working days (Order 20)",
        LimitName.ACCEPTANCE_NOTICE: "the complainant told of the acceptance decision",
        LimitName.TERMINATION_NOTICE: (
            f"the parties told within {rules.order_20.termination_notice_days} working days"
            " of the termination (终止调解)"
        ),
        LimitName.REPORT_CHECK: _report_check_note(limits, rules),
        LimitName.REPORT_NOTICE: (
            f"the reporter told within {rules.order_20.report_notice_days} working days of"
            " the case decision"
        ),
    }

    def check(name: LimitName) -> LimitCheck:
        status, due, done, day = columns[name]
        state = LimitStatus(int(status[0]))
        done_day = date.fromordinal(int(done[0])) if done[0] != NONE else None
        day_number = int(day[0]) if day[0] >= 0 else None
        note = (
            notes[name]
            if state is not LimitStatus.NOT_REQUIRED
            else _not_required(name, notes[name])
        )
        if state is LimitStatus.NOT_REQUIRED:
            return LimitCheck(name, state, None, done_day, day_number, False, note)
        due_day = date.fromordinal(int(due[0]))
        provisional = bool(calendar.unpublished_years(received, due_day))
        return LimitCheck(name, state, due_day, done_day, day_number, provisional, note)

    names = shown_limits(int(limits.deadline_set[0]), int(timelines.kind[0]))
    return [check(name) for name in names]


def _not_required(name: LimitName, note: str) -> str:
    """Why an Order 20 limit is not (yet) required; the 1·5·13 notes say so themselves."""
    return {
        LimitName.TERMINATION_NOTICE: "only owed if mediation is terminated (终止调解)",
        LimitName.REPORT_NOTICE: "owed once the case is decided, if the reporter left a phone",
    }.get(name, note)


def _report_check_note(limits: Limits, rules: TimeLimitRules) -> str:
    days = int(limits.close_days[0])
    if days > rules.order_20.report_check_days:
        return f"{days} working days, extended (Order 20)"
    return f"{days} working days (Order 20)"


def _contact_note(limits: Limits) -> str:
    if limits.contact_status[0] != LimitStatus.NOT_REQUIRED:
        return ""
    if limits.return_status[0] == LimitStatus.MET:
        return "returned in time"
    return "citizen asked for no reply"


def _return_note(order: Order, limits: Limits, rules: TimeLimitRules) -> str:
    """One message for the return row's one state: while the return window is open, how to
    use it; once it has passed unused, that the order stays the unit's."""
    returns = _returns(order)
    if not returns:
        if order.status is not OrderStatus.OPEN:
            return "not returned"
        if limits.return_status[0] == LimitStatus.NOT_REQUIRED:
            return (
                f"not returned within {rules.return_days} working "
                f"{'day' if rules.return_days == 1 else 'days'}: the unit handles it"
            )
        return "if out of jurisdiction, return by then"
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
    if limits.deadline_set[0] == DeadlineSet.ORDER_20.code:
        if order.kind is Kind.REPORT:
            return "the report's check limit (Order 20)"
        if order.kind is Kind.COMPLAINT:
            start = "acceptance" if limits.acceptance_day[0] >= 0 else "the acceptance limit"
            return f"mediation limit: {rules.order_20.mediation_days} working days from {start}"
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
