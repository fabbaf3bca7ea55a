"""The application service over a real store (SQLite, or PostgreSQL: see conftest)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from hotline.domain.aggregate import SHANGHAI
from hotline.domain.calendar import YearSchedule
from hotline.domain.errors import (
    CalendarError,
    InvalidInput,
    OrderAlreadyReceived,
    OrderNotFound,
    OrderRuleViolation,
    UnknownUnit,
)
from hotline.domain.limits import LimitName, LimitStatus
from hotline.domain.order import Closed, Received
from hotline.service.application import HotlineApplication
from stores import stored_events

AT = datetime(2026, 2, 13, 10, tzinfo=SHANGHAI)


def receive(app: HotlineApplication, number: str = "2026-000001", **fields: object) -> None:
    values: dict[str, object] = {"unit": "闵行区市场监管局", "kind": "投诉", "channel": "12345"}
    app.receive(number, at=AT, **{**values, **fields})


def test_an_order_round_trips_through_the_store(app: HotlineApplication, store: str) -> None:
    receive(app, citizen_name="张三", citizen_phone="13812345678", summary="商品质量问题")
    app.record("2026-000001", "first_contact", at=datetime(2026, 2, 14, 9), method="电话")
    app.record("2026-000001", "closed", at=datetime(2026, 2, 26, 16), result="实际解决")
    reopened = HotlineApplication(db=store).order("2026-000001")
    assert [e.name for e in reopened.history] == ["received", "first_contact", "closed"]
    first = reopened.history[0]
    assert isinstance(first, Received)
    assert (first.citizen_phone, first.summary, first.at) == ("13812345678", "商品质量问题", AT)
    last = reopened.history[-1]
    assert isinstance(last, Closed) and last.result.label == "实际解决"
    assert last.timestamp > last.at  # recorded now, happened in February
    assert stored_events(store) == 3


def test_a_second_receive_is_refused_and_writes_nothing(
    app: HotlineApplication, store: str
) -> None:
    receive(app)
    with pytest.raises(OrderAlreadyReceived):
        receive(app, unit="松江区市场监管局")
    assert stored_events(store) == 1
    assert app.order("2026-000001").unit == "闵行区市场监管局"


def test_units_are_checked_and_aliases_resolved(app: HotlineApplication, store: str) -> None:
    with pytest.raises(UnknownUnit, match="闵行区市场监管局, 闵行区消保委"):
        receive(app, unit="闵行区")
    receive(app, unit="市药品监管局")  # an alias in rubrics/units.toml
    assert app.order("2026-000001").unit == "市药监局"
    assert stored_events(store) == 1


@pytest.mark.parametrize(
    ("event", "fields", "error"),
    [
        ("rated", {"rating": "满意"}, OrderRuleViolation),
        ("return_rejected", {}, OrderRuleViolation),
        ("closed", {"result": "done"}, InvalidInput),
        ("first_contact", {"at": datetime(2026, 2, 12, 9)}, OrderRuleViolation),
    ],
)
def test_refusals_leave_the_store_unchanged(
    app: HotlineApplication, store: str, event: str, fields: dict[str, object], error: type
) -> None:
    receive(app)
    with pytest.raises(error):
        app.record("2026-000001", event, **fields)
    assert stored_events(store) == 1
    assert HotlineApplication(db=store).order("2026-000001").version == 1


def test_unknown_order(app: HotlineApplication) -> None:
    with pytest.raises(OrderNotFound, match="hotline order receive"):
        app.record("2026-404", "first_contact")


def test_a_closure_changes_past_deadlines_at_the_next_query(
    app: HotlineApplication, store: str
) -> None:
    receive(app)
    close_due = app.view("2026-000001", date(2026, 2, 13)).checks[2]
    assert (close_due.limit, close_due.due) == (LimitName.CLOSE, date(2026, 3, 10))
    app.add_closure(date(2026, 3, 3), "台风停工")
    # Another process sees it too, with no replay of the order.
    view = HotlineApplication(db=store).view("2026-000001", date(2026, 2, 13))
    assert view.checks[2].due == date(2026, 3, 11)
    app.withdraw_closure(date(2026, 3, 3), "录入错误")
    assert app.view("2026-000001", date(2026, 2, 13)).checks[2].due == date(2026, 3, 10)


def test_closures_are_refused_twice_or_when_absent(app: HotlineApplication) -> None:
    app.add_closure(date(2026, 9, 16), "台风停工")
    with pytest.raises(CalendarError, match="already closed"):
        app.add_closure(date(2026, 9, 16), "台风")
    with pytest.raises(CalendarError, match="no local closure"):
        app.withdraw_closure(date(2026, 9, 17), "x")
    with pytest.raises(CalendarError, match=r"already off: holiday \(国庆节\)"):
        app.add_closure(date(2026, 10, 2), "台风")
    with pytest.raises(CalendarError, match="already off: weekend"):
        app.add_closure(date(2026, 9, 19), "台风")


def test_a_published_year_replaces_the_guess(app: HotlineApplication, store: str) -> None:
    assert not app.calendar().is_published(2027)
    app.publish_year(YearSchedule(2027, {date(2027, 1, 1): "元旦"}, {}, "国务院办公厅通知 (test)"))
    calendar = HotlineApplication(db=store).calendar()
    assert calendar.is_published(2027)
    assert not calendar.is_working_day(date(2027, 1, 1))


def test_a_view_names_unpublished_years(app: HotlineApplication) -> None:
    receive(app)
    view = app.view("2026-000001", date(2027, 3, 1))
    assert view.unpublished_years == (2027,)
    assert view.overdue
    assert view.checks[2].status is LimitStatus.OVERDUE


def test_the_store_directory_is_private(db: Path) -> None:
    receive(HotlineApplication(db=str(db)))
    assert db.parent.stat().st_mode & 0o077 == 0
