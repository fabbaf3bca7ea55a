"""Re-importing an export (issue 16 item 4): conflicts judged against the order's current
facts (corrections applied), `--correct`, and the batch's bulk comparison agreeing with the
aggregate's on every row."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

from hotline.adapters.mapping_files import load_mapping, mapping_path
from hotline.domain.order import Closed
from hotline.service.application import HotlineApplication
from hotline.service.exports import open_export
from hotline.service.importer import Entry, Importer, _Outcome
from test_exports_import import ORDERS, run, shown, stores, table, write_csv, write_xlsx

__all__ = ["stores"]  # the fixture, used by name

ROOT = Path(__file__).resolve().parents[1]


def events_of(capsys: pytest.CaptureFixture[str], store: str, *numbers: str) -> int:
    return sum(len(shown(capsys, store, n)["events"]) for n in numbers)


NUMBERS = [str(o["工单编号"]) for o in ORDERS]


def test_a_corrected_order_re_imported_is_unchanged_and_its_original_value_a_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "week1.xlsx", table(ORDERS))
    assert run(capsys, store, "import", str(export))[0] == 0
    code, _, err = run(capsys, store, "order", "correct", "2019-000002", "--event", "closed",
                       "--field", "result", "--value", "resolved", "--reason", "录错")  # fmt: skip
    assert code == 0, err
    corrected = [dict(o) for o in ORDERS]
    corrected[1]["办理结果"] = "已解决"  # as corrected
    code, out, err = run(capsys, store, "import", str(write_xlsx(tmp_path / "w2.xlsx",
                                                              table(corrected))))  # fmt: skip
    assert (code, err) == (0, "")
    assert "0 rows imported, 5 unchanged (4 known from the import ledger), 0 conflicting" in out
    before = events_of(capsys, store, *NUMBERS)
    code, out, err = run(capsys, store, "import", str(export))  # the original value
    assert code == 1
    assert err.count("\n") == 1
    assert (
        "row 5: order 2019-000002: 办理结果: stored 'resolved', the export says 'explained'; "
        "not written" in err
    )
    assert "0 rows imported, 4 unchanged (4 known from the import ledger), 1 conflicting" in out
    assert events_of(capsys, store, *NUMBERS) == before


def test_correct_records_each_conflict_as_a_correction_naming_the_file_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    early = [dict(o) for o in ORDERS]
    for key in ("回访时间", "回访是否联系上", "回访是否一致", "满意度", "是否纳入测评"):
        early[2].pop(key)
    assert run(capsys, store, "--actor", "小王", "import",
               str(write_csv(tmp_path / "a.csv", table(early), "gb18030")))[0] == 0  # fmt: skip
    later = [dict(o) for o in ORDERS]
    later[0]["办理结果"] = "解释说明"  # two conflicts on one row
    later[0]["办结时间"] = "2019-03-12 17:00"
    later[2]["办理结果"] = "已解决"  # a conflict, and the revisit and rating new
    later[3]["派单时间"] = "2019-03-11 17:00"  # after its return: the rules refuse it
    export = write_xlsx(tmp_path / "2019-export.xlsx", table(later))
    before = events_of(capsys, store, *NUMBERS)

    code, out, err = run(capsys, store, "import", "--check", "--correct", str(export))
    assert code == 1
    assert "3 conflicts would be corrected" in out and "0 events would be written" in out
    assert "row 7: order 2019-000004: 派单时间" in err and "not corrected: the correction" in err
    assert events_of(capsys, store, *NUMBERS) == before  # wrote nothing

    code, out, err = run(capsys, store, "--actor", "小李", "import", "--correct", str(export))
    assert code == 1  # the refused one
    assert err.count("\n") == 1 and "not corrected: the correction would not stand" in err
    assert "3 conflicts corrected" in out
    assert "1 row imported, 3 unchanged, 1 conflicting" in out and "2 events written" in out
    first = shown(capsys, store, "2019-000001")
    corrections = [e for e in first["events"] if e["event"] == "corrected"]
    assert len(corrections) == 2
    assert {e["reason"] for e in corrections} == {"import 2019-export.xlsx row 4"}
    assert {e["actor"] for e in corrections} == {"小李"}
    third = shown(capsys, store, "2019-000003")
    assert [e["event"] for e in third["events"]][-3:] == ["corrected", "revisited", "rated"]
    assert third["events"][-3]["reason"] == "import 2019-export.xlsx row 6"
    after = events_of(capsys, store, *NUMBERS)
    assert after == before + 5

    code, out, err = run(capsys, store, "import", "--correct", str(export))  # nothing left
    assert "0 rows imported, 4 unchanged (4 known from the import ledger), 1 conflicting" in out
    assert "0 conflicts corrected" in out
    assert events_of(capsys, store, *NUMBERS) == after


def test_correct_is_refused_for_json_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    lines = tmp_path / "events.jsonl"
    lines.write_text('{"order": "A", "event": "received"}\n', encoding="utf-8")
    code, out, err = run(capsys, store, "import", "--correct", str(lines))
    assert code != 0 and out == "" and err.count("\n") == 1
    assert "--correct is for an export's conflicts" in err and "Traceback" not in err


def _generated(tmp_path: Path, form: str) -> Path:
    path = tmp_path / f"year.{form}"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_year.py"), "--orders", "400",
         "--format", form, "--output", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


def test_the_bulk_comparison_decides_as_the_aggregate_on_every_row(
    tmp_path: Path, stores: Callable[[], str]
) -> None:
    """A generated year's export, imported without some orders' ratings, some orders then
    corrected; then the whole export, with edited rows: the batch's comparison of stored
    states says "unchanged" of exactly the rows the aggregate's comparison does."""
    store = stores()
    app = HotlineApplication(db=store)
    rows = list(csv.reader(io.StringIO(_generated(tmp_path, "csv").read_bytes().decode("gb18030"))))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "工单编号")
    column = {name: i for i, name in enumerate(rows[header])}
    body = [row for row in rows[header + 1 :] if len(row) == len(column)]  # not 合计
    revisited = [row for row in body if row[column["回访时间"]]][::2]
    later = (
        "回访时间",
        "回访是否联系上",
        "回访是否一致",
        "回访评价",
        "满意度",
        "是否纳入测评",
        "测评时间",
    )
    early = [list(row) for row in rows]
    for row in early[header + 1 :]:
        if row in revisited:  # their revisits (and ratings) come with the later export
            for name in later:
                row[column[name]] = ""
    assert not Importer(app).run_entries(_entries(_written(tmp_path / "early.csv", early))).problems
    closed = [row[0] for row in body if row[column["办结时间"]]]
    for number in closed[:40:4]:
        informed = app.order(number).events_of(Closed)[0].citizen_informed
        app.correct(number, "closed", "citizen_informed", not informed, "录错")
    for number in closed[1:40:4]:
        app.correct(number, "received", "summary", "更正后的诉求", "录错")
    for row in body[5:60:7]:
        row[column["诉求内容"]] += "（补充）"  # a conflict
    for row in body[6:60:7]:
        if row[column["办结时间"]]:
            row[column["办理结果"]] = "未解决"  # a conflict, or the same value
    edited = _written(tmp_path / "edited.csv", rows)

    bulk = Importer(app, dry_run=True)
    one_by_one = Importer(app, dry_run=True)
    decisions: list[tuple[bool, bool]] = []
    kinds: list[str] = []
    for pending in _entries(edited):
        entry = pending.parse() if pending.parse else pending  # as a batch not known unchanged
        bulk._stored = bulk._read_stored([entry])
        found = _Outcome()
        one_by_one._import_row(entry, entry.columns or {}, found, {})  # no batch read: each
        # order from the store, as an aggregate
        decisions.append((bulk._unchanged(str(entry.order), entry), found.rows_unchanged == 1))
        kinds.append("conflict" if found.rows_conflicting else
                     "new" if found.rows_imported else "unchanged")  # fmt: skip
    assert len(decisions) == 400
    assert all(a == b for a, b in decisions), [i for i, (a, b) in enumerate(decisions) if a != b]
    counts = {kind: kinds.count(kind) for kind in set(kinds)}
    assert counts["conflict"] >= 20 and counts["unchanged"] > 250
    assert len(revisited) - 10 < counts["new"] <= len(revisited)  # less those conflicting
    # and the import itself, bulk: the new ratings added, the rest unchanged or conflicting
    result = Importer(app).run_entries(_entries(edited))
    assert (result.rows_imported, result.written) == (counts["new"], counts["new"])
    assert (result.rows_conflicting, result.rows_unchanged) == (
        counts["conflict"], counts["unchanged"])  # fmt: skip
    again = Importer(app).run_entries(_entries(edited))
    assert (again.written, again.rows_unchanged) == (0, counts["unchanged"] + counts["new"])
    assert not result.problems and not again.problems


def _written(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def _entries(path: Path) -> Iterator[Entry]:
    return open_export(path, "csv", load_mapping(mapping_path("default")))[1]


SECONDS_LINES = [
    {"order": "S-1", "event": "received", "at": "2019-03-04T10:15:42+08:00",
     "unit": "闵行区市场监管局", "kind": "complaint", "channel": "12345"},
    {"order": "S-1", "event": "first_contact", "at": "2019-03-05T09:00:07+08:00"},
    {"order": "S-1", "event": "closed", "at": "2019-03-12T16:00:37+08:00",
     "result": "resolved", "citizen_informed": True},
]  # fmt: skip


def test_an_export_written_to_the_minute_agrees_with_times_stored_to_the_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    """Our own export of an order imported to the second re-imports unchanged, and a
    time that does differ is a conflict shown to the second; `--correct` then corrects
    only that time, never cutting the seconds off the others."""
    store = stores()
    lines = tmp_path / "events.jsonl"
    lines.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in SECONDS_LINES))
    assert run(capsys, store, "import", str(lines))[0] == 0
    export = tmp_path / "out.xlsx"
    code, _, err = run(capsys, store, "export", "orders", "--period", "2019-03",
                       "--output", str(export))  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, store, "import", str(export))
    assert (code, err) == (0, "")
    assert "0 rows imported, 1 unchanged, 0 conflicting" in out

    book = openpyxl.load_workbook(export)
    sheet = book.active
    assert sheet is not None
    header = next(r for r in sheet.iter_rows(values_only=True) if "办结时间" in r)
    header_row = next(i for i, r in enumerate(sheet.iter_rows(values_only=True), 1) if r == header)
    sheet.cell(header_row + 1, header.index("办结时间") + 1).value = "2019-03-12 16:05"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    code, out, err = run(capsys, store, "import", str(edited))
    assert code == 1
    assert (
        f"row {header_row + 1}: order S-1: 办结时间: stored 2019-03-12 16:00:37, the export "
        "says 2019-03-12 16:05; not written" in err
    )
    assert err.count("\n") == 1  # the receipt and the first contact agree
    code, out, err = run(capsys, store, "import", str(edited), "--correct")
    assert (code, err) == (0, ""), err
    assert "1 conflict corrected" in out
    events = shown(capsys, store, "S-1")["events"]
    assert [(e["event"], e["at"]) for e in events if e["event"] != "corrected"] == [
        ("received", "2019-03-04T10:15:42+08:00"),  # the seconds kept
        ("first_contact", "2019-03-05T09:00:07+08:00"),
        ("closed", "2019-03-12T16:05:00+08:00"),  # as corrected
    ]
    assert sum(e["event"] == "corrected" for e in events) == 1


def test_an_order_in_two_rows_of_one_export_is_read_again_in_a_later_batch(
    tmp_path: Path, stores: Callable[[], str]
) -> None:
    """An export row's order is not kept in memory after its batch: a second row of the
    same order (its close added, in another batch) finds it in the store."""
    app = HotlineApplication(db=stores())
    rows = list(csv.reader(io.StringIO(_generated(tmp_path, "csv").read_bytes().decode("gb18030"))))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "工单编号")
    column = {name: i for i, name in enumerate(rows[header])}
    closed = next(row for row in rows[header + 1 :] if len(row) == len(column)
                  and row[column["办结时间"]] and not row[column["回访时间"]])  # fmt: skip
    open_again = list(closed)
    for name in (
        "办结时间",
        "办理结果",
        "是否告知",
        "无需回复",
        "满意度",
        "是否纳入测评",
        "测评时间",
    ):
        open_again[column[name]] = ""
    rows.insert(header + 1, open_again)  # the order first as still open, its close later
    result = Importer(app, batch_lines=1).run_entries(
        _entries(_written(tmp_path / "twice.csv", rows))
    )
    assert not result.problems, result.problems
    assert result.rows_imported == 401  # the second row adds the close
    assert len(app.order(closed[0]).events_of(Closed)) == 1


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_a_generated_year_exported_re_imports_with_no_conflict(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    """A JSON Lines year (its times to the second) and then our own export of it (times to
    the minute): every row agrees, nothing is written; the next time the ledger knows them."""
    store = stores()
    lines = tmp_path / "year.jsonl"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_year.py"), "--orders",
                    "200", "--output", str(lines)], check=True, capture_output=True)  # fmt: skip
    assert any(json.loads(line)["at"][17:19] != "00" for line in lines.open())  # seconds
    assert run(capsys, store, "import", str(lines))[0] == 0
    export = tmp_path / f"year.{suffix}"
    assert (
        run(capsys, store, "export", "orders", "--period", "2019", "--output", str(export))[0] == 0
    )
    code, out, err = run(capsys, store, "import", str(export))
    assert (code, err) == (0, "")
    assert "0 rows imported, 200 unchanged, 0 conflicting, 0 rejected; 0 events written" in out
    code, out, err = run(capsys, store, "import", str(export))
    assert (code, err) == (0, "")
    assert "200 unchanged (200 known from the import ledger), 0 conflicting" in out


def test_a_conflict_within_the_minute_shows_both_times_to_the_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    assert run(capsys, store, "import", str(write_xlsx(tmp_path / "a.xlsx", table(ORDERS))))[0] == 0
    changed = [dict(o) for o in ORDERS]
    changed[0]["办结时间"] = "2019-03-12 16:00:30"  # stored 16:00
    edited = write_csv(tmp_path / "b.csv", table(changed), "utf-8-sig")
    code, _, err = run(capsys, store, "import", str(edited))
    assert code == 1
    assert (
        "order 2019-000001: 办结时间: stored 2019-03-12 16:00:00, the export says "
        "2019-03-12 16:00:30; not written" in err
    )
