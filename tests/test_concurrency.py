"""Many writers at once on overlapping orders: a conflict is retried on a fresh load or
refused cleanly, and no event is lost or doubled.

The multi-process tests run each writer as its own process ('spawn') with its own
application on the test's `store`: a SQLite path, or a PostgreSQL URL where conftest gives
one. Each writer reports what became of each of its commands; the store must hold exactly
the events of the commands reported done.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import count
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from hotline.domain.errors import OrderAlreadyReceived, OrderRuleViolation
from hotline.domain.order import Extended, FirstContact, Received, Supervised
from hotline.domain.periods import parse_period
from hotline.service.application import ConcurrentChange, HotlineApplication
from hotline.service.projection import OrderProjection
from hotline.service.reports import Reports

WRITERS = 10
ROUNDS = 4
SHARED = ("S-1", "S-2", "S-3")
UNIT = "闵行区市场监管局"
RECEIVED_AT = datetime(2026, 3, 2, 9, 0)
LATER = datetime(2026, 3, 3, 10, 0)
REFUSALS = {"OrderRuleViolation", "OrderAlreadyReceived", "ConcurrentChange"}
"""What a writer may be told instead of `ok`; anything else is a failure."""
TwoWriters = tuple[HotlineApplication, HotlineApplication]


@dataclass(frozen=True)
class Outcome:
    """What became of one writer's command: `ok` or the refusal's class name."""

    writer: int
    command: str
    number: str
    step: int
    result: str


def _receive(app: HotlineApplication, number: str, writer: int) -> None:
    app.receive(
        number,
        unit=UNIT,
        kind="complaint",
        channel="12345",
        at=RECEIVED_AT,
        summary=f"writer {writer}",
    )


def _command(app: HotlineApplication, writer: int, command: str, number: str, step: int) -> None:
    if command == "receive":
        _receive(app, number, writer)
    elif command == "extend":
        app.record(number, "extended", at=LATER, until=date(2026, 3, 20), reason=f"{writer}/{step}")
    elif command == "contact":
        app.record(number, "first_contact", at=LATER, by=f"writer {writer}")
    else:
        app.record(number, "supervised", at=LATER)


def _outcome(app: HotlineApplication, writer: int, command: str, number: str, step: int) -> Outcome:
    try:
        _command(app, writer, command, number, step)
    except Exception as error:  # reported, and checked by the test
        return Outcome(writer, command, number, step, type(error).__name__)
    return Outcome(writer, command, number, step, "ok")


def _mixed_writer(store: str, writer: int, start: Barrier, results: Queue[list[Outcome]]) -> None:
    """Receive an order of its own, then extend and supervise every shared order each round
    and try to log their first contact halfway through."""
    plan = [("receive", f"W-{writer}", 0)]
    for step in range(ROUNDS):
        plan += [(command, n, step) for n in SHARED for command in ("extend", "supervise")]
        if step == ROUNDS // 2:
            plan += [("contact", n, step) for n in SHARED]
    app = HotlineApplication(db=store)
    start.wait()
    results.put([_outcome(app, writer, *command) for command in plan])
    app.close()


def _receiver(store: str, writer: int, start: Barrier, results: Queue[list[Outcome]]) -> None:
    """Receive each of the same numbers as the other writers, at the same moment."""
    app = HotlineApplication(db=store)
    outcomes = []
    for number in ("R-1", "R-2", "R-3", "R-4", "R-5"):
        start.wait()
        outcomes.append(_outcome(app, writer, "receive", number, 0))
    results.put(outcomes)
    app.close()


def _run(target: Callable[..., None], store: str, writers: int) -> list[Outcome]:
    """Run `writers` processes of `target` at once; every outcome they report."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(writers)
    results: Queue[list[Outcome]] = context.Queue()
    processes = [
        context.Process(target=target, args=(store, writer, start, results))
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    try:
        reported = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return [outcome for outcomes in reported for outcome in outcomes]


def test_writers_on_overlapping_orders_lose_and_double_nothing(
    store: str, app: HotlineApplication
) -> None:
    for number in SHARED:
        _receive(app, number, -1)

    outcomes = _run(_mixed_writer, store, WRITERS)

    assert len(outcomes) == WRITERS * (1 + ROUNDS * 2 * len(SHARED) + len(SHARED))
    assert {o.result for o in outcomes} <= {"ok"} | REFUSALS
    done = [o for o in outcomes if o.result == "ok"]
    assert {o.number for o in done if o.command == "receive"} == {f"W-{w}" for w in range(WRITERS)}
    total = 0
    for number in SHARED:
        history = app.order(number).history
        total += len(history)
        assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
        mine = [o for o in done if o.number == number]
        assert len(history) == 1 + len(mine)
        extended = Counter(e.reason for e in history if isinstance(e, Extended))
        assert extended == Counter(f"{o.writer}/{o.step}" for o in mine if o.command == "extend")
        supervised = [e for e in history if isinstance(e, Supervised)]
        assert len(supervised) == sum(o.command == "supervise" for o in mine)
        # One first contact at most: the others, retried on the order as it then stood, are
        # refused by its rule (or gave up on conflicts, never silently).
        contacts = [o for o in outcomes if o.number == number and o.command == "contact"]
        logged = [e.by for e in history if isinstance(e, FirstContact)]
        assert logged == [f"writer {o.writer}" for o in contacts if o.result == "ok"]
        assert len(logged) <= 1
        if any(o.result == "OrderRuleViolation" for o in contacts):
            assert len(logged) == 1
    for writer in range(WRITERS):
        total += len(app.order(f"W-{writer}").history)
    assert total == len(SHARED) + len(done)
    assert len(app.recorder.select_notifications(None, 1_000_000)) == total

    reports = Reports(app, app.readmodel)
    facts = next(reports.batches(parse_period("2026-03")).facts)  # a handful: one batch
    status = OrderProjection(app, app.readmodel).status()
    assert (status.lag, status.orders) == (0, len(SHARED) + WRITERS)
    orders = facts.orders
    assert sorted(orders.numbers) == sorted([*SHARED, *(f"W-{w}" for w in range(WRITERS))])
    for kind, indexes in (
        (Supervised, orders.supervisions.order),
        (Extended, orders.timelines.extension_order),
    ):
        projected = Counter(orders.numbers[i] for i in indexes)
        stored = Counter({n: len(app.order(n).events_of(kind)) for n in SHARED})
        assert projected == stored


def test_two_writers_receiving_one_number_at_once(store: str, app: HotlineApplication) -> None:
    outcomes = _run(_receiver, store, 2)

    for number in ("R-1", "R-2", "R-3", "R-4", "R-5"):
        results = sorted(o.result for o in outcomes if o.number == number)
        assert results == ["OrderAlreadyReceived", "ok"]
        (winner,) = [o.writer for o in outcomes if o.number == number and o.result == "ok"]
        (received,) = app.order(number).history
        assert isinstance(received, Received)
        assert received.summary == f"writer {winner}"


# The retry itself, deterministically: another writer saves the order just before ours.


def _interfere(
    monkeypatch: pytest.MonkeyPatch, app: HotlineApplication, other: Callable[[], Any], times: int
) -> None:
    """Run `other` (another writer's command) just before each of `app`'s next `times` saves."""
    save = app.save
    saves = count()

    def save_after_other(*objs: Any, **kwargs: Any) -> Any:
        if next(saves) < times:
            other()
        return save(*objs, **kwargs)

    monkeypatch.setattr(app, "save", save_after_other)


@pytest.fixture
def two(store: str, app: HotlineApplication) -> Iterator[TwoWriters]:
    """Two writers on one store, with order S-1 received."""
    other = HotlineApplication(db=store)
    _receive(app, "S-1", 0)
    yield app, other
    other.close()


def test_a_conflicting_command_is_done_again_on_the_order_as_it_now_stands(
    monkeypatch: pytest.MonkeyPatch, two: TwoWriters
) -> None:
    app, other = two
    _interfere(monkeypatch, app, lambda: other.record("S-1", "supervised", at=LATER), 1)
    app.record("S-1", "first_contact", at=LATER)
    names = [e.name for e in app.order("S-1").history]
    assert names == ["received", "supervised", "first_contact"]


def test_a_retried_command_meets_the_rules_of_the_new_state(
    monkeypatch: pytest.MonkeyPatch, two: TwoWriters
) -> None:
    app, other = two
    _interfere(
        monkeypatch, app, lambda: other.record("S-1", "closed", at=LATER, result="resolved"), 1
    )
    with pytest.raises(OrderRuleViolation, match="is closed: a close"):
        app.record("S-1", "closed", at=LATER, result="resolved")
    assert [e.name for e in app.order("S-1").history] == ["received", "closed"]


def test_a_command_that_keeps_conflicting_is_refused_after_a_few_attempts(
    monkeypatch: pytest.MonkeyPatch, two: TwoWriters
) -> None:
    app, other = two
    _interfere(monkeypatch, app, lambda: other.record("S-1", "supervised", at=LATER), 100)
    with pytest.raises(ConcurrentChange, match=r"^order S-1 was changed by someone else at each"):
        app.record("S-1", "first_contact", at=LATER)
    names = [e.name for e in app.order("S-1").history]
    assert "first_contact" not in names
    assert 2 < names.count("supervised") < 100


def test_a_number_received_by_someone_else_meanwhile_is_already_received(
    monkeypatch: pytest.MonkeyPatch, two: TwoWriters
) -> None:
    app, other = two
    _interfere(monkeypatch, app, lambda: _receive(other, "N-1", 1), 1)
    with pytest.raises(OrderAlreadyReceived):
        _receive(app, "N-1", 0)
    (received,) = app.order("N-1").history
    assert isinstance(received, Received)
    assert received.summary == "writer 1"
