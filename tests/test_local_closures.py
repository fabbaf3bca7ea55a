"""Local closures scoped to units or districts (issue 17, item 5): a typhoon closes one district.

The official 2026 calendar: Tuesday 2026-09-15 … an order received then has day 1 on Wed
09-16 and day 13 on Fri 10-09. Closing 09-16 for 浦东新区 only moves its 浦东新区 orders to
day 1 on 09-17 and day 13 on the make-up Saturday 10-10; an order of 闵行区 keeps its days.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import pytest

from hotline.domain.aggregate import SHANGHAI
from hotline.domain.calendar import Closure, OrderCalendars, Place, WorkingCalendar
from hotline.domain.calendar_amendments import CalendarAmendments, ClosureAdded
from hotline.domain.errors import InvalidInput, UnknownUnit
from hotline.domain.limits import LimitName, evaluate, limit_columns
from hotline.domain.order import Flagged
from hotline.domain.units import AddedUnit
from hotline.service.application import HotlineApplication
from hotline.service.flagging import flag_due_orders
from hotline.service.projection import OrderProjection
from hotline.service.reports import Reports

Cli = Callable[..., tuple[int, str, str]]
TYPHOON = date(2026, 9, 16)
PUDONG, MINHANG = "浦东新区市场监管局", "闵行区市场监管局"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def receive(
    app: HotlineApplication, number: str, unit: str, district: str | None, when: str
) -> None:
    app.receive(
        number, unit=unit, district=district, at=at(when), kind="complaint", channel="12345"
    )


def dues(app: HotlineApplication, number: str, today: date = date(2026, 9, 15)) -> list[date]:
    """First contact's and close's due dates, as `order show` has them."""
    checks = {c.limit: c.due for c in app.view(number, today).checks}
    return [checks[LimitName.FIRST_CONTACT], checks[LimitName.CLOSE]]  # type: ignore[list-item]


CITY = [date(2026, 9, 16), date(2026, 10, 9)]
CLOSED = [date(2026, 9, 17), date(2026, 10, 10)]


def test_a_district_closure_moves_only_that_districts_orders(app: HotlineApplication) -> None:
    receive(app, "P1", PUDONG, "浦东新区", "2026-09-15 10:00")
    receive(app, "M1", MINHANG, "闵行区", "2026-09-15 10:00")
    receive(app, "M2", MINHANG, None, "2026-09-15 10:00")  # no district given
    assert [dues(app, n) for n in ("P1", "M1", "M2")] == [CITY, CITY, CITY]
    app.add_closure(TYPHOON, "台风停工", districts=["浦东新区"])
    assert [dues(app, n) for n in ("P1", "M1", "M2")] == [CLOSED, CITY, CITY]
    # The city's calendar keeps the day: it is off only at the places the closure covers.
    city = app.calendar()
    assert city.is_working_day(TYPHOON)
    assert city.status(TYPHOON).local == Closure(TYPHOON, "台风停工", districts={"浦东新区"})
    app.withdraw_closure(TYPHOON, "录入错误")
    assert [dues(app, n) for n in ("P1", "M1", "M2")] == [CITY, CITY, CITY]


def test_a_bureaus_closure_closes_its_offices_and_an_offices_only_itself(
    app: HotlineApplication,
) -> None:
    office = app.add_unit(AddedUnit("莘庄市场监管所", "district", under=MINHANG)).name
    receive(app, "B", MINHANG, "闵行区", "2026-09-15 10:00")
    receive(app, "O", office, "闵行区", "2026-09-15 10:00")
    receive(app, "P", PUDONG, "闵行区", "2026-09-15 10:00")  # the unit's, not the district's
    app.add_closure(TYPHOON, "台风停工", units=[MINHANG])
    assert [dues(app, n) for n in ("B", "O", "P")] == [CLOSED, CLOSED, CITY]
    app.withdraw_closure(TYPHOON, "改为只关一个所")
    app.add_closure(TYPHOON, "台风停工", units=[office])
    assert [dues(app, n) for n in ("B", "O", "P")] == [CITY, CLOSED, CITY]


def test_a_closure_by_a_units_new_name_covers_orders_under_its_old_one(
    app: HotlineApplication,
) -> None:
    receive(app, "OLD", MINHANG, None, "2026-09-15 10:00")
    new = app.rename_unit(MINHANG, "闵行区市场监督管理局", date(2026, 9, 16)).name
    app.add_closure(TYPHOON, "台风停工", units=[new])
    assert dues(app, "OLD") == CLOSED


def test_calendars_are_built_per_distinct_days_off_not_per_order(
    calendar: WorkingCalendar,
) -> None:
    pudong = Closure(TYPHOON, "台风", districts={"浦东新区"})
    assert calendar.at(Place(frozenset())) is calendar  # no local closure: itself
    scoped = WorkingCalendar([], [pudong, Closure(date(2026, 9, 17), "台风", units={PUDONG})])
    units = [PUDONG, MINHANG, MINHANG, PUDONG, MINHANG]
    districts = ["浦东新区", "浦东新区", None, None, "闵行区"]
    each = OrderCalendars.of(scoped, units, districts, lambda name: frozenset({name}))
    # Both days off, 09-16 only, none, 09-17 only, none: four calendars for five orders.
    assert len(each.calendars) == 4
    received = date(2026, 9, 15).toordinal()
    days = each.working_days(each.ordinals(np.full(5, received)) + 1)
    assert [date.fromordinal(int(d)) for d in days] == [
        date(2026, 9, 18), date(2026, 9, 17), date(2026, 9, 16), date(2026, 9, 16),
        date(2026, 9, 16),
    ]  # fmt: skip
    assert each.working_on(TYPHOON).tolist() == [False, False, True, True, True]


def test_the_aggregate_and_the_read_model_agree_on_scoped_closures(
    app: HotlineApplication,
) -> None:
    for number, unit, district in (
        ("A1", MINHANG, "闵行区"), ("A2", PUDONG, "浦东新区"), ("A3", PUDONG, None),
        ("A4", MINHANG, "浦东新区"), ("A5", PUDONG, "浦东新区"), ("A6", PUDONG, "闵行区"),
    ):  # fmt: skip
        receive(app, number, unit, district, "2026-09-15 10:00")
    # Applied for on Sat 10-10: day 12 where 09-16 and 09-17 are off (timely), day 14 else.
    for number in ("A5", "A6"):
        app.record(number, "extended", at=at("2026-10-10 10:00"), until=date(2026, 10, 30),
                   reason="需现场核查")  # fmt: skip
    app.record("A1", "first_contact", at=at("2026-09-16 10:00"))
    app.add_closure(TYPHOON, "台风停工", districts=["浦东新区"], units=[MINHANG])
    app.add_closure(date(2026, 9, 17), "台风停工", districts=["浦东新区"])
    OrderProjection(app, app.readmodel).catch_up()
    columns = app.readmodel.load(Reports(app).lookback(date(2026, 9, 1)), date(2026, 12, 31))
    calendars = app.order_calendars(columns.units, columns.districts)
    assert len(calendars.calendars) == 3  # both days off, 09-16 only, none: 6 orders
    for today in (date(2026, 9, 16), date(2026, 10, 12), date(2026, 11, 2)):
        limits = evaluate(columns.timelines, calendars, app.rules, today)
        reported = limit_columns(limits, columns.timelines)
        for row, number in enumerate(columns.numbers):
            shown = {c.limit: (c.status, c.due) for c in app.view(number, today).checks}
            found = {
                name: (int(status[row]), date.fromordinal(int(due[row])))
                for name, (status, due, _, _) in reported.items()
                if name in shown
            }
            assert {k: (int(s), d) for k, (s, d) in shown.items() if d} == {
                k: v for k, v in found.items() if shown[k][1]
            }, (number, today)
    close = {n: dict((c.limit, c.due) for c in app.view(n).checks)[LimitName.CLOSE]
             for n in ("A5", "A6")}  # fmt: skip
    assert close == {"A5": date(2026, 10, 29), "A6": date(2026, 10, 9)}


def test_the_scheduler_passes_and_skips_only_the_closed_places(app: HotlineApplication) -> None:
    receive(app, "P0", PUDONG, "浦东新区", "2026-09-14 10:00")  # first contact due 09-15
    receive(app, "M0", MINHANG, "闵行区", "2026-09-14 10:00")
    receive(app, "P1", PUDONG, "浦东新区", "2026-09-15 10:00")  # due 09-16, now 09-17
    receive(app, "M1", MINHANG, "闵行区", "2026-09-15 10:00")  # due 09-16
    app.add_closure(TYPHOON, "台风停工", districts=["浦东新区"])
    done = flag_due_orders(app, at("2026-09-16 08:00"))
    assert done.working_day
    assert sorted((f.number, f.limit, f.level.value) for f in done.flagged) == [
        ("M0", "first_contact", "overdue"),
        ("M1", "first_contact", "due_soon"),
    ]
    # `orders overdue` still lists the closed district's late order, with its days left.
    due = {(d.number, d.limit): d for d in Reports(app).due(today=TYPHOON)}
    assert (due["P0", LimitName.FIRST_CONTACT].working_today, due["M0", LimitName.FIRST_CONTACT]
            .working_today) == (False, True)  # fmt: skip
    assert ("P1", LimitName.FIRST_CONTACT) in due  # due 09-17: the next working day there
    assert due["P1", LimitName.FIRST_CONTACT].working_days_left == 1
    after = flag_due_orders(app, at("2026-09-17 08:00"))
    assert sorted((f.number, f.level.value) for f in after.flagged if f.limit == "first_contact") == [
        ("M1", "overdue"), ("P0", "overdue"), ("P1", "due_soon"),
    ]  # fmt: skip
    assert [e.limit for e in app.order("P0").events_of(Flagged)] == ["first_contact"]


def test_an_old_closure_event_with_no_scope_reads_as_the_whole_citys() -> None:
    amendments = CalendarAmendments.start(at("2026-09-01 09:00"))
    amendments.add_closure(at("2026-09-01 09:00"), Closure(TYPHOON, "台风停工"))
    event = amendments.collect_events()[-1]
    state = event.model_dump(mode="json")
    assert (state.pop("units"), state.pop("districts")) == ([], [])  # as hotline wrote it
    old = ClosureAdded.model_validate(state)
    fresh = CalendarAmendments(amendments.id)
    fresh.closures = {}
    old.apply(fresh)
    assert fresh.closures == {TYPHOON: Closure(TYPHOON, "台风停工")}
    assert fresh.closures[TYPHOON].everywhere
    city = WorkingCalendar([], fresh.closures.values())
    assert not city.is_working_day(TYPHOON)
    assert not city.at(Place(frozenset({MINHANG}), "闵行区")).is_working_day(TYPHOON)


def test_unknown_units_and_districts_are_refused(app: HotlineApplication) -> None:
    with pytest.raises(UnknownUnit, match="unknown unit '浦东市场监管局'"):
        app.add_closure(TYPHOON, "台风", units=["浦东市场监管局"])
    with pytest.raises(
        InvalidInput, match=r"unknown district '浦东区' \(did you mean 浦东新区\?\)"
    ):
        app.add_closure(TYPHOON, "台风", districts=["浦东区"])
    assert app.amendments().closures == {}


def test_the_cli_closes_a_district_and_shows_the_scope(cli: Cli) -> None:
    for number, unit, district in (("P1", PUDONG, "浦东新区"), ("M1", MINHANG, "闵行区")):
        code, _, err = cli("order", "receive", number, "--unit", unit, "--kind", "complaint",
                           "--channel", "12345", "--at", "2026-09-15 10:00",
                           "--district", district)  # fmt: skip
        assert code == 0, err
    code, out, err = cli("calendar", "add-closure", "2026-09-16", "--reason", "台风停工",
                         "--district", "浦东新区", "--unit", "浦东新区市场监管局")  # fmt: skip
    assert (code, err) == (0, "")
    assert out == "2026-09-16 closed for 浦东新区、浦东新区市场监管局: 台风停工\n"
    code, out, _ = cli("calendar", "day", "2026-09-16")
    assert out == (
        "2026-09-16 Wednesday: working day; closed for 浦东新区、浦东新区市场监管局 only"
        " — 台风停工\n"
    )
    code, out, _ = cli("calendar", "show")
    assert "浦东新区、浦东新区市场监管局" in out
    shown = {}
    for number in ("P1", "M1"):
        code, out, _ = cli("order", "show", number, "--format", "json")
        limits = {c["limit"]: c["due"] for c in json.loads(out)["limits"]}
        shown[number] = limits["first_contact"], limits["close"]
    assert shown == {"P1": ("2026-09-17", "2026-10-10"), "M1": ("2026-09-16", "2026-10-09")}


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--unit",
            "浦东市场监管局",
            "hotline: unknown unit '浦东市场监管局'; did you mean 浦东新区市场监管局",
        ),
        (
            "--district",
            "浦东区",
            "hotline: unknown district '浦东区' (did you mean 浦东新区?); Shanghai's districts are 黄浦区、",
        ),
    ],
)
def test_the_cli_refuses_an_unknown_unit_or_district_in_one_line(
    cli: Cli, option: str, value: str, message: str
) -> None:
    code, out, err = cli("calendar", "add-closure", "2026-09-16", "--reason", "台风", option, value)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(message), err
    assert "2026-09-16" not in cli("calendar", "show")[1]
