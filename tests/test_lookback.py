"""What a period reads of the orders before it (domain/lookback.py, `ReadModel.batches`): every
order a metric counts, whatever its receipt day, and of the lookback only those a limit, a
later fact, an extension, a revisit or a supervision can bring into the period."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.cli.main import main
from hotline.domain.aggregate import now
from hotline.domain.calendar import FIRST_DAY, Closure, WorkingCalendar
from hotline.domain.limits import TimeLimitRules, evaluate
from hotline.domain.lookback import lookback
from hotline.domain.metrics import Facts, OrderColumns, tally
from hotline.domain.vocabulary import Channel, Kind
from hotline.service.application import HotlineApplication
from hotline.service.reports import Reports

GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
MINHANG = "闵行区市场监管局"
FIRST = date(2018, 11, 1)
"""The period the hole's orders reach into (November 2018), each received more than 90 days
before it and settled before it."""


def line(order: str, event: str, at: str, **fields: object) -> str:
    return json.dumps({"order": order, "event": event, "at": at, **fields}, ensure_ascii=False)


HOLE = [
    # A 12345 order extended to 2018-11-06 and closed early: its limit falls in November.
    line("EXT-1", "received", "2018-07-20T10:00:00+08:00", unit=MINHANG, kind="complaint",
         channel="12345", summary="延期后提前办结"),
    line("EXT-1", "first_contact", "2018-07-20T15:00:00+08:00", method="phone"),
    line("EXT-1", "extended", "2018-07-25T10:00:00+08:00", until="2018-11-06",
         reason="需现场核查"),
    line("EXT-1", "closed", "2018-10-25T10:00:00+08:00", result="resolved",
         citizen_informed=True),
    # A 12315 complaint whose mediation was terminated on 29 October and the order closed:
    # the parties are owed a notice within 7 working days, in November, and never get it.
    line("MED-1", "received", "2018-07-02T10:00:00+08:00", unit=MINHANG, kind="complaint",
         channel="12315", summary="调解终结未告知"),
    line("MED-1", "accepted", "2018-07-05T10:00:00+08:00"),
    line("MED-1", "notified", "2018-07-05T11:00:00+08:00", of="accepted"),
    line("MED-1", "mediation_ended", "2018-10-29T10:00:00+08:00", outcome="terminated",
         reason="被投诉人拒绝调解"),
    line("MED-1", "closed", "2018-10-30T10:00:00+08:00", result="explained",
         citizen_informed=True),
    # A poor revisit in November of an order closed in June.
    line("REV-1", "received", "2018-06-01T10:00:00+08:00", unit=MINHANG, kind="complaint",
         channel="12345", summary="回访不满意"),
    line("REV-1", "first_contact", "2018-06-01T15:00:00+08:00", method="phone"),
    line("REV-1", "closed", "2018-06-08T10:00:00+08:00", result="resolved",
         citizen_informed=True),
    line("REV-1", "revisited", "2018-11-05T10:00:00+08:00", contacted=True, consistent=False,
         evaluation="poor"),
]  # fmt: skip


def hotline(store: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["--db", store, *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def minhang(report: dict[str, Any]) -> dict[str, Any]:
    """The unit's row of a `report rates --format json`."""
    return dict(next(row for row in report["rows"] if row["name"] == MINHANG))


def test_an_old_order_settled_before_a_period_counts_where_its_limit_falls(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "hole.jsonl"
    events.write_text("\n".join(HOLE) + "\n", encoding="utf-8")
    hotline(store, capsys, "import", str(events))
    november = json.loads(
        hotline(store, capsys, "report", "rates", "--period", "2018-11", "--format", "json")
    )
    row = minhang(november)
    # EXT-1 closed before its extended limit, which falls in November: met there.
    assert (row["on_time_rate_numerator"], row["on_time_rate_denominator"]) == (1, 1)
    # MED-1's termination notice was due in November and never given: missed there.
    assert (row["on_time_notice_numerator"], row["on_time_notice_denominator"]) == (0, 1)
    # REV-1's poor revisit was in November.
    assert row["revisit_poor"] == 1
    app = HotlineApplication(db=store)
    try:
        reports = Reports(app)
        read = reports.current().load(reports.lookback(FIRST), date(2018, 11, 30))
        assert sorted(read.numbers) == ["EXT-1", "MED-1", "REV-1"]
        # December needs neither EXT-1 nor REV-1: nothing of theirs falls in it (MED-1's
        # mediation ended recently enough that a 45-working-day limit from it could).
        december = reports.lookback(date(2018, 12, 1))
        assert reports.current().load(december, date(2018, 12, 31)).numbers == ["MED-1"]
    finally:
        app.close()


def test_the_lookback_follows_the_calendar_and_the_sets(
    calendar: WorkingCalendar, rules: TimeLimitRules
) -> None:
    back = lookback(calendar, rules, FIRST)
    hotline_12345 = back.received[(Channel.HOTLINE_12345.code, Kind.COMPLAINT.code)]
    complaint_12315 = back.received[(Channel.HOTLINE_12315.code, Kind.COMPLAINT.code)]
    consultation_12315 = back.received[(Channel.HOTLINE_12315.code, Kind.CONSULTATION.code)]
    # No limit governs a 12315 consultation: only the period's own are read.
    assert consultation_12315 == FIRST.toordinal()
    # 13 working days from the receipt can end on the first day, not one more.
    day = date.fromordinal(hotline_12345)
    assert calendar.add_working_days(day, 13) >= FIRST
    assert calendar.add_working_days(day - timedelta(days=1), 13) < FIRST
    # 7 + 45 working days for a complaint never accepted.
    day = date.fromordinal(complaint_12315)
    assert calendar.add_working_days(day, 52) >= FIRST
    assert calendar.add_working_days(day - timedelta(days=1), 52) < FIRST
    # A closure anywhere (here a local one) makes the lookback longer by its working day.
    closed = next(d for d in (FIRST - timedelta(days=n) for n in range(1, 10))
                  if calendar.is_working_day(d))  # fmt: skip
    local = WorkingCalendar([], [Closure(closed, "台风停工", districts=frozenset({"浦东新区"}))])
    city = WorkingCalendar([])
    assert (
        lookback(local, rules, FIRST).received[(0, 0)]
        < lookback(city, rules, FIRST).received[(0, 0)]
    )


@pytest.fixture(scope="module")
def years_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store of two generated years and the hole's orders."""
    folder = tmp_path_factory.mktemp("lookback")
    files = []
    for year in (2018, 2019):
        files.append(folder / f"year-{year}.jsonl")
        done = subprocess.run(
            [sys.executable, str(GENERATOR), "--year", str(year), "--orders", "1500",
             "--seed", str(year), "--close-stragglers", "--output", str(files[-1])],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    files.append(folder / "hole.jsonl")
    files[-1].write_text("\n".join(HOLE) + "\n", encoding="utf-8")
    db = folder / "hotline.db"
    for events in files:
        assert main(["--db", str(db), "import", str(events)]) == 0
    return db


def _counted(app: HotlineApplication, reports: Reports, orders: OrderColumns, start: date,
             end: date) -> tuple[set[str], list[tuple[float, int]]]:  # fmt: skip
    """The orders any metric counts in the period (its denominator's, or a count's with a
    weight), and each metric's numerator and count over them."""
    calendars = app.order_calendars(orders.units, orders.districts)
    limits = evaluate(orders.timelines, calendars, app.rules, now().date())
    facts = Facts(orders, limits, start.toordinal(), end.toordinal())
    counted: set[str] = set()
    sums = []
    for metric in reports.metrics:
        found = tally(metric, facts)
        chosen = found.weights != 0 if found.counted is None else found.counted
        counted |= {orders.numbers[row] for row in np.flatnonzero(chosen)}
        sums.append((float(found.weights[chosen].sum()), int(chosen.sum())))
    return counted, sums


@settings(max_examples=30, deadline=None)
@given(start=st.dates(date(2017, 10, 1), date(2019, 12, 31)), days=st.integers(0, 120))
def test_a_period_reads_every_order_a_metric_counts(
    years_store: Path, start: date, days: int
) -> None:
    end = start + timedelta(days=days)
    app = HotlineApplication(db=str(years_store))
    try:
        reports = Reports(app)
        readmodel = reports.current()
        read = readmodel.load(reports.lookback(start), end)
        # From the calendar's second day: every order received by the period's end.
        whole = readmodel.load(reports.lookback(FIRST_DAY + timedelta(days=1)), end)
        assert set(read.numbers) <= set(whole.numbers)
        counted, sums = _counted(app, reports, whole, start, end)
        assert counted <= set(read.numbers)
        assert _counted(app, reports, read, start, end) == (counted, sums)
    finally:
        app.close()


def test_an_old_order_read_has_every_extension_however_early(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Received in June, extended to 20 June and again to 6 November, still open: a November
    # report reads it (it may count late there) with both extensions, the first promised
    # for a day before any order the period reads by its receipt.
    events = tmp_path / "extended.jsonl"
    events.write_text(
        "\n".join([
            line("EXT-2", "received", "2018-06-01T10:00:00+08:00", unit=MINHANG,
                 kind="complaint", channel="12345", summary="两次延期"),
            line("EXT-2", "first_contact", "2018-06-01T15:00:00+08:00", method="phone"),
            line("EXT-2", "extended", "2018-06-05T10:00:00+08:00", until="2018-06-20",
                 reason="需现场核查"),
            line("EXT-2", "extended", "2018-06-18T10:00:00+08:00", until="2018-11-06",
                 reason="需第三方检测"),
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    hotline(store, capsys, "import", str(events))
    app = HotlineApplication(db=store)
    try:
        reports = Reports(app)
        read = reports.current().load(reports.lookback(FIRST), date(2018, 11, 30))
        assert read.numbers == ["EXT-2"]
        promised = read.timelines.extension_until[read.timelines.extension_order == 0]
        assert [date.fromordinal(int(day)) for day in promised] == [
            date(2018, 6, 20), date(2018, 11, 6)
        ]  # fmt: skip
    finally:
        app.close()
