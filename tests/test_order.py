"""The order aggregate: every allowed and refused transition (domain.md §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from hotline.domain.aggregate import SHANGHAI, now
from hotline.domain.errors import InvalidInput, OrderRuleViolation
from hotline.domain.order import Order, OrderStatus, order_id
from hotline.domain.vocabulary import Channel, ClosingResult, Kind, Rating

T0 = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def received() -> Order:
    return Order.receive(
        "2026-000001",
        at=T0,
        unit="闵行区市场监管局",
        kind=Kind.COMPLAINT,
        channel=Channel.HOTLINE_12345,
    )


# Each action logs one event at a time after every state below.
ACTIONS: dict[str, Callable[[Order], None]] = {
    "contact": lambda o: o.contact(at=at(5)),
    "extend": lambda o: o.extend(at=at(5), until=date(2026, 4, 1), reason="需现场核查"),
    "return": lambda o: o.return_(at=at(5), reason="非本单位管辖", out_of_jurisdiction=True),
    "reject_return": lambda o: o.reject_return(at=at(5)),
    "close": lambda o: o.close(at=at(5), result=ClosingResult.RESOLVED),
    "revisit": lambda o: o.revisit(at=at(6), contacted=True, consistent=True),
    "rate": lambda o: o.rate(at=at(6), rating=Rating.SATISFIED),
    "supervise": lambda o: o.supervise(at=at(6), at_fault=True),
}

STATES: dict[str, Callable[[], Order]] = {
    "open": lambda: _then(received()),
    "contacted": lambda: _then(received(), lambda o: o.contact(at=at(1))),
    "returned": lambda: _then(received(), lambda o: o.return_(at=at(1), reason="x")),
    "return_rejected": lambda: _then(
        received(), lambda o: o.return_(at=at(1), reason="x"), lambda o: o.reject_return(at=at(2))
    ),
    "closed": lambda: _then(received(), lambda o: o.close(at=at(2), result="resolved")),
    "rated": lambda: _then(
        received(),
        lambda o: o.close(at=at(2), result="resolved"),
        lambda o: o.rate(at=at(3), rating="满意"),
    ),
}

ALLOWED = {
    "open": {"contact", "extend", "return", "close", "supervise"},
    "contacted": {"extend", "return", "close", "supervise"},
    "returned": {"reject_return", "supervise"},
    "return_rejected": {"contact", "extend", "close", "supervise"},
    "closed": {"revisit", "rate", "supervise"},
    "rated": {"revisit", "supervise"},
}


def _then(order: Order, *steps: Callable[[Order], None]) -> Order:
    for step in steps:
        step(order)
    order.collect_events()
    return order


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_transition(state: str, action: str) -> None:
    order = STATES[state]()
    version, history = order.version, list(order.history)
    if action in ALLOWED[state]:
        ACTIONS[action](order)
        assert order.version == version + 1
        assert [e.originator_version for e in order.collect_events()] == [version + 1]
    else:
        with pytest.raises(OrderRuleViolation):
            ACTIONS[action](order)
        assert order.version == version
        assert order.history == history
        assert order.collect_events() == []


def test_status_follows_the_events() -> None:
    order = received()
    assert order.status is OrderStatus.OPEN
    order.return_(at=at(1), reason="非本单位管辖")
    assert order.status is OrderStatus.RETURNED
    order.reject_return(at=at(2))
    assert order.status is OrderStatus.OPEN
    order.close(at=at(3), result="不属实")
    assert order.status is OrderStatus.CLOSED
    assert order.closed is not None and order.closed.result is ClosingResult.UNSUBSTANTIATED


def test_the_order_number_is_the_key() -> None:
    assert received().id == order_id("2026-000001")
    assert order_id("2026-000001") != order_id("2026-000002")


def test_events_carry_happened_and_recorded_times() -> None:
    before = now()
    event = received().history[0]
    assert event.at == T0
    assert before <= event.timestamp <= now()
    assert event.timestamp.utcoffset() == timedelta(hours=8)


def test_a_naive_time_is_read_as_shanghai() -> None:
    order = Order.receive(
        "N-1", at=datetime(2026, 2, 13, 10), unit="u", kind="投诉", channel="12345"
    )
    assert order.received_at == T0


@pytest.mark.parametrize("action", ["contact", "close", "return", "supervise"])
def test_nothing_before_receipt(action: str) -> None:
    order = received()
    early = at(-0.5)
    steps: dict[str, Callable[[], None]] = {
        "contact": lambda: order.contact(at=early),
        "close": lambda: order.close(at=early, result="resolved"),
        "return": lambda: order.return_(at=early, reason="x"),
        "supervise": lambda: order.supervise(at=early),
    }
    with pytest.raises(OrderRuleViolation, match="before the order was received"):
        steps[action]()
    assert order.version == 1


def test_revisit_and_rating_not_before_the_close() -> None:
    order = STATES["closed"]()
    with pytest.raises(OrderRuleViolation, match="before the order was closed"):
        order.rate(at=at(1), rating="满意")
    with pytest.raises(OrderRuleViolation, match="before the order was closed"):
        order.revisit(at=at(1))


def test_extension_must_promise_a_later_day() -> None:
    order = received()
    with pytest.raises(OrderRuleViolation, match="must be after"):
        order.extend(at=at(5), until=at(5).date(), reason="x")
    assert order.version == 1


def test_a_future_time_is_refused() -> None:
    order = received()
    with pytest.raises(InvalidInput, match="in the future"):
        order.contact(at=now() + timedelta(hours=1))


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "投"}, "kind"),
        ({"channel": "110"}, "channel"),
        ({"unit": ""}, "unit"),
        ({"citizen_phone": "call me"}, "citizen_phone"),
        ({"summary": "长" * 20_001}, "summary"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_invalid_payloads_are_refused_with_the_field(
    fields: dict[str, object], problem: str
) -> None:
    valid = {"unit": "闵行区市场监管局", "kind": "complaint", "channel": "12345"}
    with pytest.raises(InvalidInput, match=problem):
        Order.receive("2026-000009", at=T0, **{**valid, **fields})


def test_surrounding_spaces_are_not_part_of_the_number() -> None:
    order = Order.receive(" 2026-000001 ", at=T0, unit="u", kind="complaint", channel="12345")
    assert order.number == "2026-000001"
    assert order.id == order_id("2026-000001")


@pytest.mark.parametrize("number", ["", "a b", "x" * 65, "工单1"])
def test_malformed_order_numbers_are_refused(number: str) -> None:
    with pytest.raises(InvalidInput, match="number"):
        Order.receive(number, at=T0, unit="u", kind="complaint", channel="12345")


def test_chinese_and_english_values_are_the_same_event() -> None:
    chinese = received()
    chinese.close(at=at(1), result="实际解决")
    chinese.rate(at=at(2), rating="基本满意")
    english = received()
    english.close(at=at(1), result="resolved")
    english.rate(at=at(2), rating="basically_satisfied")
    assert [e.payload() for e in chinese.history] == [e.payload() for e in english.history]


def test_times_cannot_run_back_past_a_change_of_status() -> None:
    order = received()
    order.return_(at=at(1), reason="非本单位管辖")
    with pytest.raises(OrderRuleViolation, match="before the order was returned"):
        order.reject_return(at=at(0.5))
    order.reject_return(at=at(3))
    with pytest.raises(OrderRuleViolation, match="二次退回"):
        order.close(at=at(2), result="resolved")
    order.close(at=at(4), result="resolved")
    assert order.status is OrderStatus.CLOSED


def test_validation_messages_name_the_rule_not_a_regex() -> None:
    with pytest.raises(InvalidInput) as refused:
        Order.receive("a b", at=T0, unit="u", kind="complaint", channel="12345")
    assert "letters, digits and - _ . /" in str(refused.value)
    assert "[A-Za-z" not in str(refused.value)


def test_an_order_cannot_be_received_as_a_repeat_of_itself() -> None:
    with pytest.raises(OrderRuleViolation, match="cannot repeat itself"):
        Order.receive(
            "A-1", at=datetime(2026, 2, 13, 10, tzinfo=SHANGHAI), unit="u",
            kind=Kind.COMPLAINT, channel=Channel.HOTLINE_12345, repeat_of="A-1",
        )  # fmt: skip
