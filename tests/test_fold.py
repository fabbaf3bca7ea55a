"""One fold of an order's facts: the aggregate's view (`order show`) and the read model's
(reports, `report explain`) agree on random valid histories, corrections included.

The histories are drawn step by step: at each step a command the order's state allows
(a first contact, an extension, a return …) or a correction of a field the limits read.
A command the domain still refuses (a time before the last change, a correction that
would break a rule) is skipped, as a user would see it refused and nothing written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.domain.aggregate import SHANGHAI
from hotline.domain.calendar import OrderCalendars, WorkingCalendar
from hotline.domain.errors import HotlineError
from hotline.domain.facts import (
    FACT_COLUMNS,
    GROUP_COLUMNS,
    NONE,
    NOTIFIED_COLUMNS,
    UNSET,
    Extension,
    FactColumns,
    Revisit,
    StatusCode,
    Supervision,
    fold,
)
from hotline.domain.limits import (
    LimitName,
    Limits,
    LimitStatus,
    TimeLimitRules,
    Timelines,
    check_limits,
    evaluate,
    limit_columns,
    shown_limits,
)
from hotline.domain.lookback import lookback
from hotline.domain.metrics import OrderColumns
from hotline.domain.order import (
    ORDER_COMMANDS,
    UNCORRECTABLE,
    Accepted,
    Declined,
    Extended,
    Notified,
    Order,
    OrderStatus,
    Received,
    Returned,
    ReturnRejected,
    Revisited,
    Supervised,
)
from hotline.domain.vocabulary import (
    Channel,
    ClosingResult,
    Decision,
    DeclineReason,
    Evaluation,
    Kind,
    MediationOutcome,
    Rating,
)
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection

START = datetime(2025, 1, 2, 9, tzinfo=SHANGHAI)
"""Histories start in 2025, on the official calendar, and stay in the past."""
CORRECTED_AT = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
UNITS = ("闵行区市场监管局", "松江区市场监管局")
TODAYS = (0, 1, 2, 4, 7, 12, 20, 35, 60, 90)
"""Days after receipt on which both views are compared."""
LIFECYCLE = {"accepted", "declined", "mediation_ended", "case_decided", "notified"}
"""The 12315 steps (SAMR Order No. 20)."""
CORRECTABLE = {
    "received": ("at", "channel", "kind", "repeat_of", "category", "district"),
    "first_contact": ("at",),
    "extended": ("at", "until"),
    "returned": ("at", "out_of_jurisdiction"),
    "return_rejected": ("at",),
    "closed": ("at", "result", "citizen_informed", "no_reply_requested"),
    "revisited": ("at", "contacted", "consistent", "evaluation"),
    "rated": ("at", "rating", "excluded"),
    "supervised": ("at", "at_fault"),
    "accepted": ("at",),
    "declined": ("at", "reason"),
    "mediation_ended": ("at", "outcome", "recovered"),
    "case_decided": ("at", "filed"),
    "notified": ("at", "of"),
}
"""The fields a history's corrections change: those the limits and metrics read, and some
reports group by."""
CATEGORIES = st.none() | st.lists(st.sampled_from(["市场监管", "食品安全", "过期食品"]), min_size=1,
                                  max_size=3)  # fmt: skip
DISTRICTS = st.none() | st.sampled_from(["闵行区", "浦东新区"])
YUAN = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
CHANNELS = st.sampled_from([*Channel, Channel.HOTLINE_12315])
KINDS = st.sampled_from([*Kind, *[Kind.COMPLAINT] * 4, Kind.REPORT])
"""12315 complaints and reports drawn more often: their lifecycle has the most steps."""
NUMBERS = (f"FOLD-{n:05d}" for n in itertools.count(1))
"""Order numbers, fresh in each example (the store is the test's, shared by its examples)."""


@dataclass
class Target:
    """Where a history is recorded: the application service, or aggregates in memory."""

    receive: Callable[[str, datetime, dict[str, Any]], None]
    record: Callable[[str, str, datetime, dict[str, Any]], None]
    correct: Callable[[str, int, str, Any], None]
    order: Callable[[str], Order]


def through(app: HotlineApplication) -> Target:
    def receive(number: str, at: datetime, fields: dict[str, Any]) -> None:
        app.receive(number, at=at, **fields)

    def record(number: str, event: str, at: datetime, fields: dict[str, Any]) -> None:
        app.record(number, event, at=at, **fields)

    def correct(number: str, target: int, field: str, value: Any) -> None:
        app.correct(number, f"#{target}", field, value, "录错")

    return Target(receive, record, correct, app.order)


def in_memory() -> Target:
    orders: dict[str, Order] = {}

    def receive(number: str, at: datetime, fields: dict[str, Any]) -> None:
        orders[number] = Order.receive(number, at=at, **fields)

    def record(number: str, event: str, at: datetime, fields: dict[str, Any]) -> None:
        ORDER_COMMANDS[event](orders[number], at=at, **fields)

    def correct(number: str, target: int, field: str, value: Any) -> None:
        orders[number].correct(CORRECTED_AT, target, field, value, "录错")

    return Target(receive, record, correct, orders.__getitem__)


def allowed(order: Order) -> list[str]:
    """The commands the order's state allows (their times may still be refused)."""
    return _lifecycle(order) + _allowed(order)


def _allowed(order: Order) -> list[str]:
    if order.status is OrderStatus.OPEN:
        found = ["extended", "closed", "closed", "supervised"]
        found += [] if order.events_of(ReturnRejected) else ["returned"]
        return found + ([] if order.first_contact else ["first_contact", "first_contact"])
    if order.status is OrderStatus.RETURNED:
        return ["return_rejected", "return_rejected", "supervised"]
    if order.status is OrderStatus.DECLINED:
        return ["supervised"]
    return ["revisited", "supervised"] + ([] if order.rated else ["rated", "rated"])


def _lifecycle(order: Order) -> list[str]:
    """The 12315 steps (SAMR Order No. 20) the order's state allows."""
    found: list[str] = []
    complaint = order.channel is Channel.HOTLINE_12315 and order.kind is Kind.COMPLAINT
    accepted = isinstance(order.decision, Accepted)
    if complaint and order.decision is None and order.status is OrderStatus.OPEN:
        found += ["accepted"] * 3 + ["declined"]
    if accepted and order.mediation is None:
        found += ["mediation_ended"] * 3
    if order.case is None and (accepted or (order.channel is Channel.HOTLINE_12315
                                            and order.kind is Kind.REPORT)):  # fmt: skip
        found.append("case_decided")
    if order.decision or order.mediation or order.case:
        found += ["notified"] * 2
    return found


def fields_of(data: st.DataObject, event: str, at: datetime, order: Order) -> dict[str, Any]:
    flag = st.booleans()
    drawn: dict[str, dict[str, Any]] = {
        "first_contact": {},
        "extended": {
            "until": at.date() + timedelta(days=data.draw(st.integers(1, 40))),
            "reason": "需要检测",
        },
        "returned": {"reason": "非本单位职责", "out_of_jurisdiction": data.draw(flag)},
        "return_rejected": {},
        "closed": {
            "result": data.draw(st.sampled_from(ClosingResult)),
            "citizen_informed": data.draw(flag),
            "no_reply_requested": data.draw(flag),
        },
        "revisited": {
            "contacted": data.draw(flag),
            "consistent": data.draw(flag),
            "evaluation": data.draw(st.none() | st.sampled_from(Evaluation)),
        },
        "rated": {"rating": data.draw(st.sampled_from(Rating)), "excluded": data.draw(flag)},
        "supervised": {"at_fault": data.draw(flag)},
        "accepted": {},
        "declined": {"reason": data.draw(st.sampled_from(DeclineReason))},
        "mediation_ended": {
            "outcome": (outcome := data.draw(st.sampled_from(MediationOutcome))),
            "reason": "被投诉人拒绝调解" if outcome is MediationOutcome.TERMINATED else "",
            "recovered": data.draw(YUAN),
        },
        "case_decided": {"filed": data.draw(flag)},
        "notified": {"of": data.draw(st.sampled_from(_decided(order) or list(Decision)))},
    }
    return drawn[event]


def _decided(order: Order) -> list[Decision]:
    """The decisions the order has had and not yet told of."""
    made = [Decision.parse(e.name) for e in (order.decision, order.mediation, order.case) if e]
    return [decision for decision in made if decision not in order.notified]


def correction(data: st.DataObject, order: Order) -> tuple[int, str, Any]:
    """A correction of one of the order's events: (its version, field, new value)."""
    events = [e for e in order.events if not isinstance(e, UNCORRECTABLE)]
    steps = [e for e in events if e.name in LIFECYCLE] * 3  # rarer: drawn more often
    event = data.draw(st.sampled_from(events + steps))
    field = data.draw(st.sampled_from(CORRECTABLE[event.name]))
    current = getattr(event, field)
    value: Any
    if field == "at":
        value = min(current + timedelta(hours=data.draw(st.integers(-96, 96))), CORRECTED_AT)
    elif field == "until":
        value = event.at.date() + timedelta(days=data.draw(st.integers(1, 40)))
    elif field == "repeat_of":
        value = None if current else "FOLD-ORIGINAL"
    elif field == "category":
        value = data.draw(CATEGORIES.filter(lambda v: v != current))
    elif field == "district":
        value = data.draw(DISTRICTS.filter(lambda v: v != current))
    elif field == "recovered":
        value = str(data.draw(YUAN.filter(lambda v: v != current)))
    elif isinstance(current, bool):
        value = not current
    else:
        vocabulary = {"channel": Channel, "kind": Kind, "result": ClosingResult,
                      "rating": Rating, "evaluation": Evaluation, "reason": DeclineReason,
                      "outcome": MediationOutcome, "of": Decision}[field]  # fmt: skip
        value = data.draw(st.sampled_from(list(vocabulary)).filter(lambda v: v != current))
    return event.originator_version, field, value


def history(data: st.DataObject, target: Target) -> str:
    """Record a random valid history of a new order on `target`; its number."""
    number = next(NUMBERS)
    at = START + timedelta(days=data.draw(st.integers(0, 330)), hours=data.draw(st.integers(0, 9)))
    target.receive(
        number,
        at,
        {
            "unit": data.draw(st.sampled_from(UNITS)),
            "kind": data.draw(KINDS),
            "channel": data.draw(CHANNELS),
            "repeat_of": data.draw(st.none() | st.just("FOLD-ORIGINAL")),
            "category": data.draw(CATEGORIES),
            "district": data.draw(DISTRICTS),
            "entity_code": data.draw(st.none() | st.just("91310000132149237G")),
            "citizen_phone": data.draw(st.none() | st.just("13812345678")),
        },
    )
    for _ in range(data.draw(st.integers(1, 12))):
        order = target.order(number)
        command = data.draw(st.sampled_from([*allowed(order), "correct", "correct"]))
        at += timedelta(hours=data.draw(st.integers(0, 24 * 9)))
        try:
            if command == "correct":
                target.correct(number, *correction(data, order))
            else:
                target.record(number, command, at, fields_of(data, command, at, order))
        except HotlineError:
            pass  # refused, nothing recorded: the next step goes on from the same order
    return number


def checks_of(limits: Limits, timelines: Timelines, row: int) -> list[tuple[Any, ...]]:
    """Row `row` of column-wise checks as (limit, status, due, done, day), as `check_limits`
    says them: the limits of the order's deadline set, no due date where one is not required."""

    def check(name: LimitName, status: Any, due: Any, done: Any, day: Any) -> tuple[Any, ...]:
        state = LimitStatus(int(status[row]))
        return (
            name,
            state,
            None if state is LimitStatus.NOT_REQUIRED else date.fromordinal(int(due[row])),
            None if done[row] == NONE else date.fromordinal(int(done[row])),
            None if day[row] < 0 else int(day[row]),
        )

    columns = limit_columns(limits, timelines)
    names = shown_limits(int(limits.deadline_set[row]), int(timelines.kind[row]))
    return [check(name, *columns[name]) for name in names]


def facts_by_order(columns: OrderColumns, row: int) -> dict[str, Any]:
    """Everything the metrics read of one order, from its columns."""
    t, v, s = columns.timelines, columns.revisits, columns.supervisions
    found: dict[str, Any] = {
        "unit": columns.units[row],
        "timelines": [int(getattr(t, name)[row]) for name in
                      ("channel", "kind", "status", "received", "contact", "returned",
                       "out_of_jurisdiction", "return_rejected", "closed", "no_reply_requested",
                       "accepted", "declined", "mediation_ended", "case_decided", "case_filed",
                       "acceptance_notified", "mediation_notified", "case_notified",
                       "mediation_terminated", "contact_given")],
        "rest": [int(getattr(columns, name)[row]) for name in
                 ("repeat", "result", "citizen_informed", "rating", "rating_excluded", "rated",
                  "mediation_outcome", "recovered_fen")],
        "extensions": [(int(a), int(u)) for o, a, u in
                       zip(t.extension_order, t.extension_applied, t.extension_until, strict=True)
                       if o == row],
        "revisits": sorted((int(d), bool(c), bool(k), int(e)) for o, d, c, k, e in
                           zip(v.order, v.day, v.contacted, v.consistent, v.evaluation,
                               strict=True) if o == row),
        "supervisions": sorted((int(d), bool(f)) for o, d, f in
                               zip(s.order, s.day, s.at_fault, strict=True) if o == row),
    }  # fmt: skip
    return found


PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(data=st.data())
def test_order_show_and_the_read_model_agree_on_every_limit(
    data: st.DataObject, app: HotlineApplication, calendar: WorkingCalendar, rules: TimeLimitRules
) -> None:
    numbers = [history(data, through(app)) for _ in range(data.draw(st.integers(1, 3)))]
    projection = OrderProjection(app, app.readmodel)
    projection.catch_up()
    columns = app.readmodel.load(lookback(calendar, rules, date(2024, 1, 1)), date(2027, 12, 31))
    replayed = type(app.readmodel)("sqlite://")
    projection.replay_until(datetime(2099, 1, 1, tzinfo=SHANGHAI), replayed)
    as_of = replayed.load(lookback(calendar, rules, date(2024, 1, 1)), date(2027, 12, 31))
    for number in numbers:
        order = app.order(number)
        row = columns.numbers.index(number)
        own = OrderColumns.of_facts(FactColumns.of([fold(order)]))
        assert facts_by_order(columns, row) == facts_by_order(own, 0)
        assert facts_by_order(as_of, as_of.numbers.index(number)) == facts_by_order(own, 0)
        received = order.received_at.date()
        for today in (received + timedelta(days=days) for days in TODAYS):
            shown = check_limits(order, calendar, rules, today)
            everyone = OrderCalendars.one(calendar, len(columns.numbers))
            reported = evaluate(columns.timelines, everyone, rules, today)
            assert [(c.limit, c.status, c.due, c.done, c.day) for c in shown] == checks_of(
                reported, columns.timelines, row
            ), (number, today)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_the_fold_of_an_orders_facts_agrees_with_its_state(data: st.DataObject) -> None:
    target = in_memory()
    order = target.order(history(data, target))
    facts = fold(order)
    row = facts.row
    assert set(FACT_COLUMNS) | set(GROUP_COLUMNS) | {"number", "unit"} == set(row)
    received = order.events[0]
    assert isinstance(received, Received)
    levels = received.category or []
    assert [row[name] for name in GROUP_COLUMNS] == [
        *levels, *[None] * (3 - len(levels)), received.district, received.street,
        received.entity, received.entity_code,
    ]  # fmt: skip
    assert (row["number"], row["unit"], row["channel"], row["kind"], row["received_day"]) == (
        order.number,
        order.unit,
        order.channel.code,
        order.kind.code,
        order.received_at.date().toordinal(),
    )
    assert row["repeat"] == (getattr(received, "repeat_of", None) is not None)
    assert row["status"] == StatusCode[order.status.name]
    contact = order.first_contact
    assert row["contact_day"] == (contact.at.date().toordinal() if contact else NONE)
    closed = order.closed
    assert (row["closed_day"], row["result"], row["citizen_informed"], row["no_reply_requested"]) == (
        (closed.at.date().toordinal(), closed.result.code, closed.citizen_informed,
         closed.no_reply_requested) if closed else (NONE, UNSET, False, False)
    )  # fmt: skip
    rated = order.rated
    assert (row["rating"], row["rating_excluded"], row["rated_day"]) == (
        (rated.rating.code, rated.excluded, rated.at.date().toordinal())
        if rated
        else (UNSET, False, NONE)
    )
    returns = order.events_of(Returned)
    assert (row["returned_day"], row["out_of_jurisdiction"]) == (
        (returns[0].at.date().toordinal(), returns[0].out_of_jurisdiction)
        if returns
        else (NONE, False)
    )
    assert row["return_rejected"] == bool(order.events_of(ReturnRejected))
    decision = order.decision
    assert (row["accepted_day"], row["declined_day"]) == (
        decision.at.date().toordinal() if isinstance(decision, Accepted) else NONE,
        decision.at.date().toordinal() if isinstance(decision, Declined) else NONE,
    )
    mediation = order.mediation
    assert (row["mediation_day"], row["mediation_outcome"], row["recovered_fen"]) == (
        (mediation.at.date().toordinal(), mediation.outcome.code, int(mediation.recovered * 100))
        if mediation
        else (NONE, UNSET, 0)
    )
    assert isinstance(row["recovered_fen"], int)
    case = order.case
    assert (row["case_day"], row["case_filed"]) == (
        (case.at.date().toordinal(), case.filed) if case else (NONE, False)
    )
    notices = {
        NOTIFIED_COLUMNS[e.of.value]: e.at.date().toordinal() for e in order.events_of(Notified)
    }
    assert len(notices) == len(order.events_of(Notified)) == len(order.notified)
    assert {name: row[name] for name in set(NOTIFIED_COLUMNS.values())} == {
        name: notices.get(name, NONE) for name in set(NOTIFIED_COLUMNS.values())
    }
    assert [d for d in facts.details if isinstance(d, Extension)] == [
        Extension(e.originator_version, e.at.date().toordinal(), e.until.toordinal())
        for e in order.events_of(Extended)
    ]
    assert [d for d in facts.details if isinstance(d, Revisit)] == [
        Revisit(e.originator_version, e.at.date().toordinal(), e.contacted, e.consistent,
                e.evaluation.code if e.evaluation else UNSET)
        for e in order.events_of(Revisited)
    ]  # fmt: skip
    assert [d for d in facts.details if isinstance(d, Supervision)] == [
        Supervision(e.originator_version, e.at.date().toordinal(), e.at_fault)
        for e in order.events_of(Supervised)
    ]
