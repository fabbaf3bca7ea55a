"""The projection into the read model: incremental catch-ups, crashes, rebuilds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from hotline.adapters.readmodel import TRACKING_NAME, ReadModel, metadata
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.periods import parse_period
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from hotline.service.reports import Reports

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
EVENTS = 23
"""Notifications logged by `STEPS`, the calendar's two included."""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def receive(app: HotlineApplication, number: str, when: str, **fields: Any) -> None:
    values: dict[str, Any] = {"unit": MINHANG, "kind": "complaint", "channel": "12345"}
    app.receive(number, at=at(when), **{**values, **fields})


def log(app: HotlineApplication, number: str, event: str, when: str, **fields: Any) -> None:
    app.record(number, event, at=at(when), **fields)


def step_1(app: HotlineApplication) -> None:
    receive(app, "H1", "2026-03-02 10:00")
    log(app, "H1", "first_contact", "2026-03-03 09:00")
    log(app, "H1", "extended", "2026-03-10 09:00", until=date(2026, 3, 31), reason="核查")
    receive(app, "H2", "2026-03-02 11:00")
    log(app, "H2", "returned", "2026-03-03 09:00", reason="非本单位", out_of_jurisdiction=True)


def step_2(app: HotlineApplication) -> None:
    log(app, "H2", "return_rejected", "2026-03-04 09:00")
    log(app, "H1", "extended", "2026-03-16 09:00", until=date(2026, 4, 10), reason="再核查")
    receive(app, "H3", "2026-03-05 10:00", kind="report", channel="12315", repeat_of="H1")
    log(app, "H3", "returned", "2026-03-06 09:00", reason="非本单位", out_of_jurisdiction=True)
    log(app, "H2", "extended", "2026-03-05 09:00", until=date(2026, 3, 27), reason="核查")


def step_3(app: HotlineApplication) -> None:
    app.add_closure(date(2026, 3, 13), "台风停工")
    log(app, "H2", "closed", "2026-03-20 16:00", result="explained", no_reply_requested=True)
    log(app, "H2", "revisited", "2026-03-23 10:00", evaluation="good", consistent=False)
    receive(app, "H4", "2026-03-09 10:00", kind="revisit_review")
    log(app, "H1", "closed", "2026-04-08 16:00", result="resolved")


def step_4(app: HotlineApplication) -> None:
    log(app, "H1", "revisited", "2026-04-09 10:00", evaluation="excellent")
    log(app, "H1", "rated", "2026-04-09 11:00", rating="satisfied")
    log(app, "H4", "closed", "2026-03-12 16:00", result="unsubstantiated")
    log(app, "H4", "rated", "2026-03-13 10:00", rating="dissatisfied", excluded=True)
    log(app, "H1", "supervised", "2026-04-10 10:00", at_fault=True)
    log(app, "H2", "supervised", "2026-03-25 10:00")
    receive(app, "H5", "2026-03-30 10:00")


STEPS = (step_1, step_2, step_3, step_4)


def log_everything(app: HotlineApplication) -> None:
    for step in STEPS:
        step(app)


def rows(readmodel: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, in primary-key order."""
    found = {}
    with readmodel.engine.connect() as connection:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            found[table.name] = [tuple(row) for row in connection.execute(query)]
    return found


def rebuilt(app: HotlineApplication, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The read model projected from scratch into a new database."""
    fresh = ReadModel(f"sqlite:///{tmp_path / 'fresh.db'}")
    OrderProjection(app, fresh).catch_up()
    return rows(fresh)


def check_counts(found: dict[str, list[tuple[Any, ...]]]) -> None:
    counts = {name: len(table) for name, table in found.items()}
    assert counts == {
        "rm_orders": 5,
        "rm_extensions": 3,
        "rm_revisits": 2,
        "rm_supervisions": 2,
        "rm_findings": 0,
        "rm_flags": 0,
        "rm_audit": EVENTS,
        "rm_tracking": 1,
    }
    assert found["rm_tracking"] == [(TRACKING_NAME, EVENTS)]


def test_incremental_catch_ups_equal_a_rebuild(app: HotlineApplication, tmp_path: Path) -> None:
    projection = OrderProjection(app, app.readmodel, batch_size=2)
    applied = 0
    for step in STEPS:
        step(app)
        applied += projection.catch_up()
        assert app.readmodel.position() == projection.head()
    assert applied == EVENTS
    assert projection.catch_up() == 0
    incremental = rows(app.readmodel)
    check_counts(incremental)
    assert incremental == rebuilt(app, tmp_path)
    # One batch for everything gives the same rows too.
    assert projection.rebuild() == EVENTS
    assert rows(app.readmodel) == incremental


def test_a_read_model_of_an_older_layout_is_dropped_and_rebuilt(
    app: HotlineApplication, tmp_path: Path
) -> None:
    log_everything(app)
    OrderProjection(app, app.readmodel).catch_up()
    # The layout before the packed facts: no `facts` column, tracked as "orders-v1".
    with app.readmodel.engine.begin() as connection:
        connection.execute(text("ALTER TABLE rm_orders DROP COLUMN facts"))
        connection.execute(text("UPDATE rm_tracking SET name = 'orders-v1'"))
    url = app.env["READ_MODEL_URL"]
    reopened = ReadModel(url)
    if reopened.engine.dialect.name == "postgresql":  # only `hotline db upgrade` drops it there
        assert reopened.create(upgrade=True)
    assert reopened.position() == 0
    assert reopened.count() == 0
    assert OrderProjection(app, reopened).catch_up() == EVENTS
    found = rows(reopened)
    check_counts(found)
    assert found == rebuilt(app, tmp_path)
    # The current layout is kept as it is.
    assert ReadModel(url).position() == EVENTS


def test_catch_ups_at_once_apply_each_event_once(
    app: HotlineApplication, store: str, tmp_path: Path
) -> None:
    """A report, the follower and a rebuild may catch up together: each batch is claimed
    by moving the position from where it was, so only one of them writes it."""
    for step in STEPS:
        step(app)
    others = [HotlineApplication(db=store) for _ in range(3)]
    projections = [OrderProjection(other, other.readmodel, batch_size=1) for other in others]
    applied: list[int] = []
    threads = [threading.Thread(target=lambda p=p: applied.append(p.catch_up()))  # type: ignore[misc]
               for p in projections]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(applied) == EVENTS and app.readmodel.position() == EVENTS
    check_counts(rows(app.readmodel))
    assert rows(app.readmodel) == rebuilt(app, tmp_path)


def test_the_read_model_holds_what_happened(app: HotlineApplication) -> None:
    log_everything(app)
    OrderProjection(app, app.readmodel).catch_up()
    columns = app.readmodel.load(Reports(app).lookback(date(2026, 3, 1)), date(2026, 4, 30))
    assert sorted(columns.numbers) == ["H1", "H2", "H3", "H4", "H5"]
    t = columns.timelines
    by_number = {
        number: (
            date.fromordinal(int(t.closed[row])) if t.closed[row] else None,
            int(t.status[row]),
            bool(t.return_rejected[row]),
            bool(t.out_of_jurisdiction[row]),
            bool(t.no_reply_requested[row]),
            bool(columns.repeat[row]),
            bool(columns.rating_excluded[row]),
        )
        for row, number in enumerate(columns.numbers)
    }
    # status: 0 open, 1 returned, 2 closed
    assert by_number == {
        "H1": (date(2026, 4, 8), 2, False, False, False, False, False),
        "H2": (date(2026, 3, 20), 2, True, True, True, False, False),
        "H3": (None, 1, False, True, False, True, False),
        "H4": (date(2026, 3, 12), 2, False, False, False, False, True),
        "H5": (None, 0, False, False, False, False, False),
    }
    # H1's two extensions (in order) and H2's one.
    extensions = [
        (columns.numbers[int(row)], date.fromordinal(int(until)))
        for row, until in zip(t.extension_order, t.extension_until, strict=True)
    ]
    assert sorted(extensions) == [
        ("H1", date(2026, 3, 31)), ("H1", date(2026, 4, 10)), ("H2", date(2026, 3, 27))
    ]  # fmt: skip
    h1 = [until for number, until in extensions if number == "H1"]
    assert h1 == [date(2026, 3, 31), date(2026, 4, 10)]


@pytest.mark.parametrize("where", ["before the batch", "inside the batch's transaction"])
def test_a_crash_mid_catch_up_resumes_without_double_counting(
    app: HotlineApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    log_everything(app)
    projection = OrderProjection(app, app.readmodel, batch_size=3)
    calls = 0
    if where == "before the batch":
        apply = ReadModel.apply

        def crashing_apply(self: ReadModel, changes: Any, start: int, end: int) -> bool:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise RuntimeError("power cut")
            return apply(self, changes, start, end)

        monkeypatch.setattr(ReadModel, "apply", crashing_apply)
    else:
        apply_rows = ReadModel._apply

        def crashing_rows(self: ReadModel, connection: Any, changes: Any) -> None:
            nonlocal calls
            calls += 1
            apply_rows(self, connection, changes)  # the rows are written, then the crash
            if calls == 3:
                raise RuntimeError("power cut")

        monkeypatch.setattr(ReadModel, "_apply", crashing_rows)
    with pytest.raises(RuntimeError, match="power cut"):
        projection.catch_up()
    assert app.readmodel.position() == 6  # two batches of three made it
    partial = rows(app.readmodel)
    assert partial["rm_tracking"] == [(TRACKING_NAME, 6)]
    # The first six events: H1 received, contacted, extended; H2 received, returned; and
    # H2's return rejected. Nothing of the third batch is there.
    assert [row[1] for row in partial["rm_orders"]] in (["H1", "H2"], ["H2", "H1"])
    assert len(partial["rm_extensions"]) == 1

    monkeypatch.undo()
    assert projection.catch_up() == EVENTS - 6
    assert app.readmodel.position() == projection.head() == EVENTS
    resumed = rows(app.readmodel)
    check_counts(resumed)
    assert resumed == rebuilt(app, tmp_path)
    values = Reports(app, app.readmodel).rates(parse_period("2026-03"), unit=MINHANG).rows[0]
    assert values.values["volume"].numerator == 4.0  # H1 H2 H4 H5; H3's return stood
    assert values.values["repeat_orders"].numerator == 1.0


def test_projections_status_and_rebuild_through_the_cli(app: HotlineApplication, cli: Cli) -> None:
    log_everything(app)
    code, out, err = cli("projections", "status")
    assert code == 0, err
    assert out.strip() == (
        f"read model at notification 0 of {EVENTS}: {EVENTS} events stored, {EVENTS} not yet "
        "applied; 0 orders"
    )
    code, _, err = cli("report", "rates", "--period", "2026", "--format", "json")
    assert code == 0, err  # a report catches the read model up
    code, out, _ = cli("projections", "status")
    assert out.strip() == (
        f"read model at notification {EVENTS} of {EVENTS}: {EVENTS} events stored, 0 not yet "
        "applied; 5 orders"
    )
    before = rows(app.readmodel)
    code, out, err = cli("projections", "rebuild")
    assert code == 0, err
    assert out.strip() == f"read model rebuilt from {EVENTS} events; 5 orders"
    assert rows(app.readmodel) == before
    receive(app, "H6", "2026-04-01 10:00")
    code, out, _ = cli("projections", "status")
    assert out.strip() == (
        f"read model at notification {EVENTS} of {EVENTS + 1}: {EVENTS + 1} events stored, 1 "
        "not yet applied; 5 orders"
    )
    code, out, _ = cli("projections", "rebuild")
    assert out.strip() == f"read model rebuilt from {EVENTS + 1} events; 6 orders"


def test_projections_status_counts_events_where_notification_ids_have_gaps(
    app: HotlineApplication, cli: Cli
) -> None:
    """A PostgreSQL sequence skips the ids of transactions rolled back: `status` used to say
    "event 30822 of 30822" with 30,821 stored."""
    receive(app, "G1", "2026-03-02 10:00")
    with app.readmodel.engine.begin() as connection:  # skip an id, as a rollback does
        gaps = connection.dialect.name == "postgresql"  # SQLite's ids (rowids) have none
        if gaps:
            connection.execute(
                text("SELECT nextval(pg_get_serial_sequence('hotline_events', 'notification_id'))")
            )
    receive(app, "G2", "2026-03-02 11:00")
    head = 3 if gaps else 2
    code, out, err = cli("projections", "status")
    assert code == 0, err
    assert out.strip() == (
        f"read model at notification 0 of {head}: 2 events stored, 2 not yet applied; 0 orders"
    )
    assert cli("projections", "rebuild")[0] == 0
    code, out, _ = cli("projections", "status")
    assert out.strip() == (
        f"read model at notification {head} of {head}: 2 events stored, 0 not yet applied; 2 orders"
    )
