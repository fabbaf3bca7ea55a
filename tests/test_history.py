"""Reports on a store of many years (issue 19): a period reads only the orders it needs, by
index, and gives what a store of that year alone (plus the orders still open from before)
gives."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from hotline.adapters import readmodel as readmodel_module
from hotline.adapters.readmodel import LOOKBACK_DAYS, ReadModel
from hotline.cli.main import main
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.limits import TimeLimitRules
from hotline.domain.lookback import lookback
from hotline.service.application import HotlineApplication
from hotline.service.reports import Reports

GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
YEARS = (2017, 2018, 2019)
SETTLING = {"closed", "declined"}
"""The events after which an order is no longer open (closed, or 不予受理)."""
PERIOD_START = date(2018, 11, 1)
"""The first day of assessment year 2019, the period compared."""
LINGERING = "2017-900001"
"""An order received long before the period and closed in it."""
LINGERING_LINES = [
    json.dumps(line, ensure_ascii=False)
    for line in (
        {"order": LINGERING, "event": "received", "at": "2017-12-04T10:00:00+08:00",
         "unit": "闵行区市场监管局", "kind": "complaint", "channel": "12345", "summary": "久拖未结"},
        {"order": LINGERING, "event": "first_contact", "at": "2017-12-05T15:00:00+08:00",
         "method": "phone"},
        {"order": LINGERING, "event": "closed", "at": "2018-12-10T15:00:00+08:00",
         "result": "resolved", "citizen_informed": True},
    )
]  # fmt: skip


@pytest.fixture(scope="module")
def year_files(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("history")
    files = {}
    for year in YEARS:
        files[year] = folder / f"year-{year}.jsonl"
        done = subprocess.run(
            [sys.executable, str(GENERATOR), "--year", str(year), "--orders", "1500",
             "--seed", str(year), "--output", str(files[year])],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    files[0] = folder / "lingering.jsonl"
    files[0].write_text("\n".join(LINGERING_LINES) + "\n", encoding="utf-8")
    return files


def needed_by_the_period(path: Path) -> list[str]:
    """The lines of the orders of an earlier year that the period may need: received in the
    `LOOKBACK_DAYS` before it (more than the lookback: reading more changes nothing), or not
    closed, declined nor returned (a return not rejected) before it."""
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lookback = PERIOD_START - timedelta(days=LOOKBACK_DAYS)
    recent = {
        e["order"]
        for e in events
        if e["event"] == "received" and date.fromisoformat(e["at"][:10]) >= lookback
    }
    before = [e for e in events if date.fromisoformat(e["at"][:10]) < PERIOD_START]
    settled = {e["order"] for e in before if e["event"] in SETTLING}
    returned: dict[str, bool] = {}  # whether the order's latest return stands
    for e in before:
        if e["event"] in ("returned", "return_rejected"):
            returned[e["order"]] = e["event"] == "returned"
    settled |= {order for order, stands in returned.items() if stands}
    orders = {e["order"] for e in events}
    return [json.dumps(e, ensure_ascii=False) for e in events
            if e["order"] in recent | (orders - settled)]  # fmt: skip


def hotline(store: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["--db", store, *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


REPORTS = [
    ("rates", "--period", "2019"),
    ("rates", "--period", "2019Q1", "--group", "district"),
    ("rates", "--period", "2019-10"),
    ("scores", "--rubric", "shanghai-12345-2019", "--period", "2019"),
]


def test_a_year_on_a_store_of_many_equals_the_year_alone(
    store: str,
    other_store: str,
    year_files: dict[int, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for year in (0, *YEARS):
        hotline(store, capsys, "import", str(year_files[year]))
    earlier = [line for year in (0, *YEARS[:-1]) for line in needed_by_the_period(year_files[year])]
    # Some orders of the earlier years are still open: the report counts them, on both.
    assert len({json.loads(line)["order"] for line in earlier}) > 1
    alone = tmp_path / "alone.jsonl"
    alone.write_text("\n".join(earlier) + "\n", encoding="utf-8")
    hotline(other_store, capsys, "import", str(alone))
    hotline(other_store, capsys, "import", str(year_files[YEARS[-1]]))
    for report in REPORTS:
        many = json.loads(hotline(store, capsys, "report", *report, "--format", "json"))
        one = json.loads(hotline(other_store, capsys, "report", *report, "--format", "json"))
        assert many == one, report
    # Every earlier order still open is read (the lingering index), and the one closed in
    # the period a year after it was received; of the rest only a few of the lookback.
    app = HotlineApplication(db=store)
    try:
        reports = Reports(app)
        year = reports.current().load(reports.lookback(PERIOD_START), date(2019, 10, 31))
    finally:
        app.close()
    before = [json.loads(line) for line in earlier]
    settled = {e["order"] for e in before if e["event"] in SETTLING | {"returned"}}
    assert {e["order"] for e in before} - settled <= set(year.numbers)
    assert LINGERING in year.numbers
    assert len(set(year.numbers) & {e["order"] for e in before}) < len(settled)
    # And the earlier years are there to read: their own reports are not those of the other.
    earlier_year = ("report", "rates", "--period", "2018", "--format", "json")
    assert hotline(store, capsys, *earlier_year) != hotline(other_store, capsys, *earlier_year)


@pytest.fixture
def statements(tmp_path: Path) -> Iterator[tuple[ReadModel, list[str]]]:
    """A SQLite read model and the statements it runs, as SQLite saw them."""
    readmodel = ReadModel(f"sqlite:///{tmp_path / 'plan.db'}")
    readmodel.engine.dispose()  # the connection that made the tables, untraced
    seen: list[str] = []

    def trace(connection: sqlite3.Connection, _: object) -> None:
        connection.set_trace_callback(seen.append)

    event.listen(readmodel.engine, "connect", trace)
    yield readmodel, seen
    readmodel.engine.dispose()


def test_a_period_reads_the_orders_by_index_not_by_scanning(
    statements: tuple[ReadModel, list[str]], calendar: WorkingCalendar, rules: TimeLimitRules
) -> None:
    readmodel, seen = statements
    readmodel.load(lookback(calendar, rules, date(2018, 11, 1)), date(2019, 10, 31))
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    # The orders received before the lookback, then the period's extensions, revisits and
    # supervisions by their days, then the rest of its orders (the earlier orders'
    # extensions by id: none here).
    assert len(reads) == 5
    plan = sqlite3.connect(readmodel.engine.url.database or "")
    try:
        steps = [row[3] for s in reads for row in plan.execute(f"EXPLAIN QUERY PLAN {s}")]
    finally:
        plan.close()
    scans = [step for step in steps if step.startswith("SCAN rm_")]
    assert scans == []
    assert any("ix_rm_orders_lingering" in step for step in steps)
    assert any("ix_rm_orders_chained" in step for step in steps)


BATCHED_REPORTS = [
    ("rates", "--period", "2019"),
    ("rates", "--period", "2019Q1", "--group", "district", "--channel", "12345"),
    ("explain", "--period", "2019", "--unit", "闵行区市场监管局"),
    ("scores", "--rubric", "shanghai-12345-2019", "--period", "2019"),
    ("deductions", "--rubric", "market-office-2017", "--period", "2019Q2"),
]


def test_a_report_summed_batch_by_batch_is_the_report_of_all_at_once(
    store: str,
    year_files: dict[int, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for year in YEARS[-2:]:
        hotline(store, capsys, "import", str(year_files[year]))
    whole = {
        report: hotline(store, capsys, "report", *report, "--format", "json")
        for report in BATCHED_REPORTS
    }
    # Fetches of 40 rows, so that batches of 97 orders are made across the driver's fetches.
    monkeypatch.setattr(readmodel_module, "FETCH_BATCH", 40)
    app = HotlineApplication(db=store)
    try:
        readmodel = Reports(app).current()
        back = Reports(app).lookback(PERIOD_START)
        counts = [len(b.numbers) for b in readmodel.batches(back, date(2019, 10, 31), size=97)]
        everything = readmodel.load(back, date(2019, 10, 31))
        alone = next(readmodel.batches(back, date(2019, 10, 31), size=97))
    finally:
        app.close()
    assert len(counts) > 10 and set(counts[:-1]) == {97}
    assert sum(counts) == len(everything.numbers)
    assert alone.numbers == everything.numbers[:97]
    # A batch keeps its orders' extensions, with its own rows.
    assert alone.timelines.extension_order.size > 0
    assert alone.timelines.extension_order.max() < 97
    monkeypatch.setattr(readmodel_module, "BATCH", 97)
    for report in BATCHED_REPORTS:
        batched = hotline(store, capsys, "report", *report, "--format", "json")
        assert json.loads(batched) == json.loads(whole[report]), report


def test_stragglers_closed_after_the_year_leave_the_year_as_it_was(tmp_path: Path) -> None:
    def generated(*options: str) -> list[str]:
        path = tmp_path / "year.jsonl"
        done = subprocess.run(
            [sys.executable, str(GENERATOR), "--year", "2019", "--orders", "1500",
             "--output", str(path), *options],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return path.read_text(encoding="utf-8").splitlines()

    year, closed = generated(), generated("--close-stragglers")
    assert closed[: len(year)] == year
    later = [json.loads(line) for line in closed[len(year) :]]
    assert later and all(e["at"] >= "2019-11-01" for e in later)

    def still_open(lines: list[str]) -> set[str]:
        """Orders neither closed, declined nor returned for good (a return not rejected)."""
        events = [json.loads(line) for line in lines]
        ended = {e["order"] for e in events if e["event"] in SETTLING | {"returned"}}
        rejected = {e["order"] for e in events if e["event"] == "return_rejected"}
        settled = {e["order"] for e in events if e["event"] in SETTLING}
        return {e["order"] for e in events} - ended | (rejected - settled)

    assert still_open(year)  # the default: the last weeks' orders open at the year's end
    assert still_open(closed) == set()
