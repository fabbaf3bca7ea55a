"""The overdue scheduler's pass: flags on both sides of a holiday, once each.

The official 2026 calendar: Spring Festival is off 2026-02-15 … 02-23, and Saturday
2026-02-14 is a make-up workday. An order received Friday 02-13 has day 1 on Sat 02-14
(first contact due then) and day 13 on Tue 03-10 … an order received Thursday 02-12
has day 1 on Fri 02-13.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import pytest

from hotline.domain.aggregate import SHANGHAI
from hotline.domain.order import Flagged, FlagLevel, Order
from hotline.service import flagging
from hotline.service.application import HotlineApplication
from hotline.service.flagging import flag_due_orders
from hotline.service.reports import Reports


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def receive(app: HotlineApplication, number: str, when: str) -> None:
    app.receive(number, unit="闵行区市场监管局", at=at(when), kind="complaint", channel="12345")


def flags_of(app: HotlineApplication, number: str) -> list[tuple[str, FlagLevel]]:
    return [(e.limit, e.level) for e in app.order(number).events_of(Flagged)]


def test_a_pass_flags_what_is_due_today_and_what_is_overdue(app: HotlineApplication) -> None:
    receive(app, "F1", "2026-02-13 10:00")  # first contact due Sat 02-14 (make-up workday)
    receive(app, "F2", "2026-02-12 10:00")  # first contact due Fri 02-13
    app.record("F2", "first_contact", at=at("2026-02-13 09:00"))  # met: only closing is due
    done = flag_due_orders(app, at("2026-02-14 08:00"))
    assert done.working_day
    assert [(f.number, f.limit, f.level) for f in done.flagged] == [
        ("F1", "first_contact", FlagLevel.DUE_SOON)
    ]
    assert flags_of(app, "F2") == []


def test_no_pass_on_a_holiday_and_overdue_after_it(app: HotlineApplication) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    holiday = flag_due_orders(app, at("2026-02-18 09:00"))  # Spring Festival
    assert (holiday.working_day, holiday.flagged) == (False, [])
    after = flag_due_orders(app, at("2026-02-24 09:00"))  # first working day after it
    assert [(f.limit, f.level) for f in after.flagged] == [("first_contact", FlagLevel.OVERDUE)]


def test_a_repeated_pass_flags_nothing_twice(app: HotlineApplication) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    first = flag_due_orders(app, at("2026-02-14 08:00"))
    again = flag_due_orders(app, at("2026-02-14 15:00"))
    assert (len(first.flagged), len(again.flagged), again.already) == (1, 0, 1)
    assert flags_of(app, "F1") == [("first_contact", FlagLevel.DUE_SOON)]


def test_a_repeated_pass_skips_what_the_read_model_shows_flagged(
    app: HotlineApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    receive(app, "F2", "2026-02-13 11:00")
    flag_due_orders(app, at("2026-02-14 08:00"))  # both due soon
    loaded: list[str] = []
    load, load_many = app.order, app.orders

    def orders(numbers: Iterable[str]) -> dict[str, Order]:
        loaded.extend(numbers := list(numbers))
        return load_many(numbers)

    monkeypatch.setattr(app, "order", lambda number: loaded.append(number) or load(number))
    monkeypatch.setattr(app, "orders", orders)  # the pass's batches
    again = flag_due_orders(app, at("2026-02-14 15:00"))
    assert (again.flagged, again.already, loaded) == ([], 2, [])
    # Overdue is a new level: those orders are loaded and flagged.
    later = flag_due_orders(app, at("2026-02-24 09:00"))
    assert (len(later.flagged), sorted(loaded)) == (2, ["F1", "F2"])


def test_a_closed_order_is_not_flagged(app: HotlineApplication) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    app.record("F1", "closed", at=at("2026-02-13 16:00"), result="resolved")
    assert flag_due_orders(app, at("2026-02-24 09:00")).flagged == []


def test_two_passes_at_once_flag_each_order_once(store: str) -> None:
    setup = HotlineApplication(db=store)
    numbers = [f"P{i}" for i in range(30)]
    for number in numbers:
        receive(setup, number, "2026-02-13 10:00")
    results = []

    def run() -> None:
        results.append(flag_due_orders(HotlineApplication(db=store), at("2026-02-24 09:00")))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r.flagged) for r in results) == len(numbers)
    check = HotlineApplication(db=store)
    for number in numbers:
        assert flags_of(check, number) == [("first_contact", FlagLevel.OVERDUE)]


def test_flags_reach_the_read_model(app: HotlineApplication) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    flag_due_orders(app, at("2026-02-14 08:00"))
    flag_due_orders(app, at("2026-02-24 09:00"))
    reports = Reports(app, app.readmodel)
    found = reports.alerts()
    assert [(f.number, f.limit, f.level, str(f.due)) for f in found] == [
        ("F1", "first_contact", "due_soon", "2026-02-14"),
        ("F1", "first_contact", "overdue", "2026-02-14"),
    ]
    (later,) = reports.alerts(since=at("2026-02-20 00:00"), unit="闵行区市场监管局")
    assert later.level == "overdue" and later.at == at("2026-02-24 09:00")
    assert reports.alerts(unit="松江区市场监管局") == []


def test_tick_and_the_alert_feed_through_the_cli(
    app: HotlineApplication, cli: Callable[..., tuple[int, str, str]]
) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    code, out, err = cli("scheduler", "tick", "--as-of", "2026-02-18 09:00")
    assert (code, out.strip()) == (
        0,
        "2026-02-18 is not a working day: nothing is due, nothing flagged",
    )
    code, out, err = cli("scheduler", "tick", "--as-of", "2026-02-24 09:00")
    assert code == 0, err
    assert out.splitlines()[0] == "2026-02-24: 1 flagged, 0 flagged before"
    code, out, err = cli("scheduler", "tick", "--as-of", "2026-02-24 10:00")
    assert out.splitlines()[0] == "2026-02-24: 0 flagged, 1 flagged before"
    code, out, err = cli("alerts", "--format", "jsonl", "--unit", "闵行区市场监管局")
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == [
        {"at": "2026-02-24T09:00:00+08:00", "order": "F1", "unit": "闵行区市场监管局",
         "limit": "first_contact", "level": "overdue", "due": "2026-02-14"}
    ]  # fmt: skip
    code, out, err = cli("alerts")
    assert code == 0, err
    assert out.splitlines()[0].strip() == "1 alert"  # the count in the singular for 1
    code, out, err = cli("scheduler", "tick", "--as-of", "2026-02-30 09:00")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_order_show_lists_the_flags_under_their_limit(
    app: HotlineApplication,
    cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    for moment in ("2026-02-14 08:00", "2026-02-24 09:00"):
        code, _, err = cli("scheduler", "tick", "--as-of", moment)
        assert code == 0, err
    code, out, err = cli("order", "show", "F1", "--format", "json")
    assert code == 0, err
    flags = {limit["limit"]: limit["flags"] for limit in json.loads(out)["limits"]}
    assert flags == {
        "first_contact": [
            {"level": "due_soon", "at": "2026-02-14T08:00:00+08:00"},
            {"level": "overdue", "at": "2026-02-24T09:00:00+08:00"},
        ],
        "return": [],
        "close": [],
    }
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = cli("order", "show", "F1")
    assert code == 0, err
    cells = [[cell.strip() for cell in line.split("│")] for line in out.splitlines()]
    flagged = [row[-2] for row in cells if len(row) > 2]  # a flag's level, its time under it
    assert flagged[flagged.index("due_soon") :][:4] == ["due_soon", "02-14 08:00", "overdue",
                                                        "02-24 09:00"]  # fmt: skip


def test_orders_overdue_shows_the_latest_flag_on_each_limit(
    app: HotlineApplication, cli: Callable[..., tuple[int, str, str]]
) -> None:
    receive(app, "F1", "2026-02-13 10:00")  # long overdue whatever today is
    flag_due_orders(app, at("2026-02-14 08:00"))
    flag_due_orders(app, at("2026-02-24 09:00"))  # first contact overdue; close not due yet
    code, out, err = cli("orders", "overdue", "--format", "json")
    assert code == 0, err
    flagged = {(row["order"], row["limit"]): row["flagged"] for row in json.loads(out)["rows"]}
    assert flagged == {
        ("F1", "first_contact"): "overdue 2026-02-24 09:00",
        ("F1", "close"): None,
    }
    code, out, err = cli("orders", "overdue", "--format", "csv")
    assert code == 0, err
    rows = {
        (row["order"], row["limit"]): row["flagged"] for row in csv.DictReader(out.splitlines())
    }
    assert rows == {("F1", "first_contact"): "overdue 2026-02-24 09:00", ("F1", "close"): ""}


def test_orders_overdue_counts_one_limit_in_the_singular(
    app: HotlineApplication, cli: Callable[..., tuple[int, str, str]]
) -> None:
    receive(app, "F1", "2026-02-13 10:00")
    app.record("F1", "first_contact", at=at("2026-02-14 09:00"))  # only the close is left
    code, out, err = cli("orders", "overdue")
    assert code == 0, err
    assert out.splitlines()[0].strip() == "1 limit past or due soon"
    receive(app, "F2", "2026-02-13 10:00")
    code, out, err = cli("orders", "overdue")
    assert code == 0, err
    assert out.splitlines()[0].strip() == "3 limits past or due soon"


def test_an_extension_is_flagged_afresh_on_its_new_date(app: HotlineApplication) -> None:
    receive(app, "F1", "2026-02-13 10:00")  # close due Tue 03-10 (day 13)
    app.record("F1", "first_contact", at=at("2026-02-14 09:00"))
    before = flag_due_orders(app, at("2026-03-10 08:00"))
    assert [(f.limit, f.level, str(f.due)) for f in before.flagged] == [
        ("close", FlagLevel.DUE_SOON, "2026-03-10")
    ]
    app.record("F1", "extended", at=at("2026-03-10 10:00"), until=date(2026, 3, 20),
               reason="需现场核查", legal_basis="")  # fmt: skip
    assert flag_due_orders(app, at("2026-03-10 15:00")).flagged == []
    # The close falls due a working day before the promised date (the feedback allowance).
    after = flag_due_orders(app, at("2026-03-19 08:00"))
    assert [(f.limit, f.level, str(f.due)) for f in after.flagged] == [
        ("close", FlagLevel.DUE_SOON, "2026-03-19")
    ]
    assert flag_due_orders(app, at("2026-03-19 12:00")).flagged == []


# One bad order never stops a pass


def _receive_three(cli: Callable[..., tuple[int, str, str]]) -> None:
    for number, when in (("A", "2026-02-13 10:00"), ("B", "2026-02-14 08:04"),
                         ("C", "2026-02-13 11:00")):  # fmt: skip
        args = ("--unit", "闵行区市场监管局", "--kind", "complaint", "--channel", "12345")
        assert cli("order", "receive", number, *args, "--at", when)[0] == 0


def test_an_order_received_after_the_pass_time_waits_for_a_later_pass(
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    """The issue's case: an order received a few minutes "in the future" (clock skew) made
    the pass fail at it ("flagged at … is before the order was received"), and every re-run
    fail until the clock passed it; the orders after it were not flagged."""
    _receive_three(cli)
    pass_at = ("scheduler", "tick", "--window", "1", "--as-of")
    code, out, err = cli(*pass_at, "2026-02-14 08:00")
    assert (code, err) == (0, "")
    assert "2026-02-14: 2 flagged, 0 flagged before\n" in out  # B was not received yet
    assert " A " in out and " C " in out and " B " not in out
    code, out, err = cli(*pass_at, "2026-02-14 08:10")  # once its time has come
    assert (code, err) == (0, "")
    assert "1 flagged, 2 flagged before" in out and " B " in out


def test_an_order_that_cannot_be_flagged_is_reported_and_the_pass_goes_on(
    cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _receive_three(cli)
    flag = Order.flag

    def broken(order: Order, *args: Any) -> bool:
        if order.number == "A":
            raise ValueError("a broken order")
        return flag(order, *args)

    monkeypatch.setattr(Order, "flag", broken)
    code, out, err = cli("scheduler", "tick", "--window", "1", "--as-of", "2026-02-14 08:10")
    assert code == 1
    assert "2 flagged" in out and "1 could not be flagged" in out
    assert " B " in out and " C " in out
    assert err.startswith("hotline: order A not flagged: ValueError('a broken order')")
    assert err.count("\n") == 1
    monkeypatch.setattr(Order, "flag", flag)
    code, out, _ = cli("scheduler", "tick", "--window", "1", "--as-of", "2026-02-14 08:10")
    assert code == 0 and "1 flagged, 2 flagged before" in out and " A " in out


def test_a_batch_another_writer_got_to_first_is_flagged_order_by_order(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flags are saved a batch to a transaction; when another writer saved one of its orders
    meanwhile, the store refuses the whole batch, and its orders are flagged one by one."""
    app, other = HotlineApplication(db=store), HotlineApplication(db=store)
    numbers = [f"P{i}" for i in range(5)]
    for number in numbers:
        receive(app, number, "2026-02-13 10:00")
    monkeypatch.setattr(flagging, "BATCH", 2)
    save = app.save_orders
    batches: list[list[str]] = []

    def meanwhile(orders: list[Order]) -> None:
        batches.append(sorted(order.number for order in orders))
        if len(batches) == 2:  # the second batch: another pass flags one of its orders first
            first = other.order("P2")
            first.flag(
                at("2026-02-24 09:00"), "first_contact", FlagLevel.OVERDUE, date(2026, 2, 14)
            )
            other.save_order(first)
        save(orders)

    monkeypatch.setattr(app, "save_orders", meanwhile)
    done = flag_due_orders(app, at("2026-02-24 09:00"))
    assert batches == [["P0", "P1"], ["P2", "P3"], ["P4"]]
    assert [flag.number for flag in done.flagged] == ["P0", "P1", "P3", "P4"]
    assert (done.already, done.failed) == (1, [])
    for number in numbers:
        assert flags_of(other, number) == [("first_contact", FlagLevel.OVERDUE)]
