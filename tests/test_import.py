"""Bulk import of JSON Lines (domain.md §9), through the CLI and the importer service."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from hotline.adapters.import_ledger import create_ledger_table, line_ledger
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.errors import OrderNotFound
from hotline.service.application import HotlineApplication
from hotline.service.importer import MAX_LINE_BYTES, Importer, read_lines
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]
GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
MINHANG = "闵行区市场监管局"


def line(order: str, event: str, at: str, **fields: Any) -> str:
    return json.dumps({"order": order, "event": event, "at": at, **fields}, ensure_ascii=False)


def received(order: str, at: str, unit: str = MINHANG, **fields: Any) -> str:
    values = {"unit": unit, "kind": "complaint", "channel": "12345"}
    return line(order, "received", at, **{**values, **fields})


def write(path: Path, lines: list[str | bytes], newline_at_end: bool = True) -> Path:
    raw = b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines)
    path.write_bytes(raw + (b"\n" if newline_at_end else b""))
    return path


def flat(text: str) -> str:
    """`text` with every run of whitespace made one space (undoes line wrapping)."""
    return " ".join(text.split())


def versions(app: HotlineApplication, *numbers: str) -> list[int]:
    found = []
    for number in numbers:
        try:
            found.append(app.order(number).version)
        except OrderNotFound:
            found.append(0)
    return found


GOOD = [
    received("2019-000001", "2019-03-04T10:15:00+08:00", summary="商品质量问题"),
    received("2019-000002", "2019-03-04T11:00:00+08:00", unit="市药品监管局", kind="consultation",
             channel="12315"),  # an alias of 市药监局
    line("2019-000001", "first_contact", "2019-03-05T09:00:00+08:00", method="phone"),
    # 2019-02-28 17:30 UTC is 2019-03-01 01:30 in Shanghai: a March order.
    received("2019-000003", "2019-02-28T17:30:00+00:00", repeat_of="2019-000001"),
    line("2019-000002", "returned", "2019-03-05T09:00:00+08:00", reason="非本单位职责",
         out_of_jurisdiction=True),
    line("2019-000001", "extended", "2019-03-11T09:00:00+08:00", until="2019-04-10",
         reason="需现场核查", legal_basis="《消费者权益保护法》"),
    "",
    line("2019-000001", "closed", "2019-03-12T16:00:00+08:00", result="resolved",
         citizen_informed=True),
    line("2019-000001", "rated", "2019-03-20T10:00:00+08:00", rating="satisfied"),
    line("2019-000001", "revisited", "2019-03-20T10:30:00+08:00", evaluation="优"),
    line("2019-000001", "supervised", "2019-03-25T10:00:00+08:00", at_fault=False),
]  # fmt: skip
GOOD_EVENTS = 10


def test_a_small_file_imports_and_a_second_import_writes_nothing(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "small.jsonl", GOOD)
    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert out.strip() == f"{path}: 11 lines, {GOOD_EVENTS} events written, 0 already present"
    assert err == ""
    assert stored_events(store) == GOOD_EVENTS
    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert out.strip() == f"{path}: 11 lines, 0 events written, {GOOD_EVENTS} already present"
    assert stored_events(store) == GOOD_EVENTS

    app = HotlineApplication(db=store)
    assert app.order("2019-000002").unit == "市药监局"
    assert app.order("2019-000003").received_at == datetime(2019, 3, 1, 1, 30, tzinfo=SHANGHAI)
    assert [e.name for e in app.order("2019-000001").history] == [
        "received", "first_contact", "extended", "closed", "rated", "revisited", "supervised"
    ]  # fmt: skip
    code, out, err = cli("report", "rates", "--period", "2019-03", "--unit", MINHANG,
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert (row["volume"], row["repeat_orders"], row["satisfaction"]) == (2, 1, 100.0)
    code, out, _ = cli("report", "rates", "--period", "2019-02", "--unit", MINHANG,
                       "--format", "json")  # fmt: skip
    assert json.loads(out)["rows"][0]["volume"] == 0


def test_the_importer_service_counts_what_it_did(app: HotlineApplication, store: str) -> None:
    raw = [(x + "\n").encode() for x in GOOD]
    result = Importer(app, batch_lines=3).run(raw)
    assert (result.lines, result.written, result.already_present) == (11, GOOD_EVENTS, 0)
    assert (result.not_written, result.problems) == (0, [])
    again = Importer(app, batch_lines=4).run(raw)
    assert (again.written, again.already_present, again.problems) == (0, GOOD_EVENTS, [])
    assert stored_events(store) == GOOD_EVENTS


# A bad line: B's events are not written, A's and C's are.

A, B, C = "2019-A", "2019-B", "2019-C"


def lines_around(b_lines: list[str | bytes]) -> list[str | bytes]:
    """A, B and C interleaved: B's three lines are lines 2, 4 and 6."""
    return [
        received(A, "2019-03-04T10:00:00+08:00"),
        b_lines[0],
        line(A, "first_contact", "2019-03-05T09:00:00+08:00"),
        b_lines[1],
        line(A, "closed", "2019-03-12T16:00:00+08:00", result="resolved"),
        b_lines[2],
        received(C, "2019-03-06T10:00:00+08:00"),
    ]


B_RECEIVED = received(B, "2019-03-04T11:00:00+08:00")
B_CONTACT = line(B, "first_contact", "2019-03-05T10:00:00+08:00")
B_CLOSED = line(B, "closed", "2019-03-13T16:00:00+08:00", result="explained")


@pytest.mark.parametrize(
    ("b_lines", "bad_line", "message"),
    [
        pytest.param(
            [B_RECEIVED, line(B, "reopened", "2019-03-05T10:00:00+08:00"), B_CLOSED],
            4, "\"event\" 'reopened' is not one of", id="unknown event",
        ),
        pytest.param(
            [received(B, "2019-03-04T11:00:00+08:00", unit="不存在的局"), B_CONTACT, B_CLOSED],
            2, "unknown unit '不存在的局'", id="unknown unit",
        ),
        pytest.param(
            [B_RECEIVED, line(B, "rated", "2019-03-05T10:00:00+08:00", rating="satisfied"),
             B_CLOSED],
            4, "can only be logged after it is closed", id="rated before closed",
        ),
        pytest.param(
            [B_RECEIVED, line(B, "first_contact", "2019-03-03T10:00:00+08:00"), B_CLOSED],
            4, "before the order was received", id="contact before received",
        ),
        pytest.param(
            [B_RECEIVED, line(B, "first_contact", "2019-02-30T10:00:00+08:00"), B_CLOSED],
            4, "'2019-02-30T10:00:00+08:00' is not an ISO 8601 date", id="bad date",
        ),
        pytest.param(
            [B_RECEIVED, line(B, "extended", "2019-03-05T10:00:00+08:00", until="2019-04-31",
                              reason="x"), B_CLOSED],
            4, "until", id="bad promised date",
        ),
        pytest.param(
            [B_RECEIVED, line(B, "first_contact", "2027-03-05T10:00:00+08:00"), B_CLOSED],
            4, "in the future", id="in the future",
        ),
        pytest.param(
            [B_RECEIVED, json.dumps({"order": B, "event": "first_contact"}), B_CLOSED],
            4, '"at" is missing', id="no time",
        ),
        pytest.param(
            [received(B, "2019-03-04T11:00:00+08:00", kind="praise"), B_CONTACT, B_CLOSED],
            2, "kind", id="bad kind",
        ),
        pytest.param(
            [B_RECEIVED, B_CONTACT[:-1] + ",}", B_CLOSED],
            4, "not a JSON object", id="bad JSON",
        ),
        pytest.param(
            [B_RECEIVED, B_CONTACT[:-1].encode() + b', "by": "\xe5\xbc\xa0\xff"}', B_CLOSED],
            4, "not UTF-8 text", id="invalid UTF-8",
        ),
    ],
)  # fmt: skip
def test_a_bad_line_is_reported_and_its_order_not_written(
    cli: Cli, store: str, tmp_path: Path, b_lines: list[str | bytes], bad_line: int, message: str
) -> None:
    path = write(tmp_path / "bad.jsonl", lines_around(b_lines))
    code, out, err = cli("import", str(path))
    assert code == 1
    reported = flat(err)
    assert f"line {bad_line}:" in reported
    assert message in reported
    assert "Traceback" not in err
    app = HotlineApplication(db=store)
    assert versions(app, A, B, C) == [3, 0, 1]
    assert stored_events(store) == 4
    assert "1 order rejected" in flat(out) and "fix the lines above" in flat(out)


def test_a_truncated_last_line(cli: Cli, store: str, tmp_path: Path) -> None:
    a_revisited = line(A, "revisited", "2019-03-14T10:00:00+08:00")
    lines = lines_around([B_RECEIVED, B_CONTACT, a_revisited])
    lines.append(B_CLOSED[:40])  # the export was cut off here: '{"order": "2019-B", "event": "clo'
    path = write(tmp_path / "cut.jsonl", lines, newline_at_end=False)
    code, _, err = cli("import", str(path))
    assert code == 1
    assert "line 8:" in flat(err) and "not a JSON object" in flat(err)
    assert versions(HotlineApplication(db=store), A, B, C) == [4, 0, 1]


def test_a_truncated_last_line_is_reported_and_the_rest_imported(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    lines = lines_around([B_RECEIVED, B_CONTACT, B_CLOSED])
    # Cut before its order number: no order can be blamed for it.
    lines.append(line(C, "first_contact", "2019-03-07T09:00:00+08:00")[:9])
    path = write(tmp_path / "cut.jsonl", lines, newline_at_end=False)
    code, _, err = cli("import", str(path))
    assert code == 1
    assert "line 8:" in flat(err) and "not a JSON object" in flat(err)
    app = HotlineApplication(db=store)
    assert versions(app, A, B) == [3, 3]  # every complete line of A and B is in
    # Completing the file and importing it again adds the last event, nothing else.
    lines[-1] = line(C, "first_contact", "2019-03-07T09:00:00+08:00")
    write(path, lines)
    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert "1 event written, 7 already present" in out
    assert versions(app, A, B, C) == [3, 3, 2]


def test_a_line_with_no_order_at_all_is_reported(cli: Cli, store: str, tmp_path: Path) -> None:
    path = write(tmp_path / "junk.jsonl", lines_around([B_RECEIVED, "[1, 2, 3]", B_CLOSED]))
    code, _, err = cli("import", str(path))
    assert code == 1
    assert "line 4: not a JSON object" in flat(err)
    assert versions(HotlineApplication(db=store), A, B, C) == [3, 2, 1]


def test_a_corrected_file_adds_the_rest(app: HotlineApplication, store: str) -> None:
    """A bad line rejects its order's events from that batch on; earlier batches stay,
    and importing the corrected file adds the rest (importer docstring)."""
    bad = lines_around([B_RECEIVED, line(B, "reopened", "2019-03-05T10:00:00+08:00"), B_CLOSED])
    raw = [(str(x) + "\n").encode() for x in bad]
    result = Importer(app, batch_lines=2).run(raw)
    # Batches: (1 2) (3 4) (5 6) (7): B's received was saved with the first batch.
    assert (result.lines, result.written, result.not_written) == (7, 5, 1)
    assert [(p.line, p.order) for p in result.problems] == [(4, B)]
    assert result.rejected_orders == 1
    assert versions(app, A, B, C) == [3, 1, 1]
    good = lines_around([B_RECEIVED, B_CONTACT, B_CLOSED])
    again = Importer(app, batch_lines=2).run([(str(x) + "\n").encode() for x in good])
    assert (again.written, again.already_present, again.problems) == (2, 5, [])
    assert versions(app, A, B, C) == [3, 3, 1]
    assert stored_events(store) == 7


def test_a_problem_quoting_markup_is_reported_as_written(
    cli: Cli, store: str, tmp_path: Path
) -> None:
    bad = lines_around([B_RECEIVED, line(B, "[/b]", "2019-03-05T10:00:00+08:00"), B_CLOSED])
    code, _, err = cli("import", str(write(tmp_path / "bad.jsonl", bad)))
    assert code == 1
    assert "line 4:" in flat(err) and "'[/b]' is not one of" in flat(err)


def test_a_problem_quotes_the_bad_value_verbatim(cli: Cli, tmp_path: Path) -> None:
    bad = lines_around(
        [B_RECEIVED, line(B, "[bold]reopened", "2019-03-05T10:00:00+08:00"), B_CLOSED]
    )
    code, _, err = cli("import", str(write(tmp_path / "bad.jsonl", bad)))
    assert code == 1
    assert "'[bold]reopened' is not one of" in flat(err)


def test_each_problem_is_one_line_on_stderr(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    bad = lines_around([B_RECEIVED, line(B, "reopened", "2019-03-05T10:00:00+08:00"), B_CLOSED])
    path = write(tmp_path / "platform-export-2019-03.jsonl", bad)
    code, _, err = cli("import", str(path))
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith(f"hotline: {path}: line 4: order {B}: \"event\" 'reopened'")


def test_a_line_with_a_timestamp_field_is_a_bad_line(cli: Cli, store: str, tmp_path: Path) -> None:
    b_contact = line(B, "first_contact", "2019-03-05T10:00:00+08:00",
                     timestamp="2019-03-05T10:05:00+08:00")  # fmt: skip
    path = write(tmp_path / "export.jsonl", lines_around([B_RECEIVED, b_contact, B_CLOSED]))
    code, _, err = cli("import", str(path))
    assert code == 1
    assert "line 4:" in flat(err) and "timestamp" in flat(err)
    assert versions(HotlineApplication(db=store), A, B, C) == [3, 0, 1]


def test_a_missing_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("import", str(tmp_path / "nope.jsonl"))
    assert code == 1
    assert "nope.jsonl: cannot read it" in err and err.count("\n") == 1


# A generated year


def received_and_volume(path: Path) -> tuple[int, int]:
    """Orders received, and those whose last return was not rejected, counted from the file."""
    status: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for text in handle:
            item = json.loads(text)
            event = item["event"]
            if event in ("received", "return_rejected", "closed"):
                status[item["order"]] = "open" if event != "closed" else "closed"
            elif event == "returned":
                status[item["order"]] = "returned"
    kept = sum(1 for s in status.values() if s != "returned")
    return len(status), kept


def test_a_generated_year_imports_cleanly(cli: Cli, store: str, tmp_path: Path) -> None:
    if not GENERATOR.exists():
        pytest.skip("scripts/generate_year.py is not there yet")
    path = tmp_path / "year-2019.jsonl"
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "300", "--seed", "3", "--output", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = sum(1 for _ in path.open(encoding="utf-8"))
    orders, volume = received_and_volume(path)
    assert orders == 300
    assert 0 < volume < orders

    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert out.strip() == f"{path}: {events} lines, {events} events written, 0 already present"
    assert stored_events(store) == events
    code, out, err = cli("import", str(path))
    assert code == 0, err
    assert f"0 events written, {events} already present" in out
    assert stored_events(store) == events

    code, out, err = cli("report", "rates", "--period", "2019", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["from"], report["to"]) == ("2018-11-01", "2019-10-31")
    (system,) = [row for row in report["rows"] if row["level"] == "system"]
    assert system["volume"] == volume
    assert system["return_rate_denominator"] == orders
    groups = [row for row in report["rows"] if row["level"] == "group"]
    assert sum(row["volume"] for row in groups) == volume


def test_the_importer_keeps_at_most_its_budget_of_events_in_memory(
    app: HotlineApplication, tmp_path: Path
) -> None:
    """Memory stays bounded by size on a first import and on a second one that writes nothing
    (where every order is read back from the store to compare); an order not kept is read
    back, and the import's result is the same as with every order kept."""
    path = tmp_path / "year.jsonl"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "400", "--seed", "4", "--output", str(path)],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    raw = path.read_bytes().splitlines(keepends=True)
    for expected_written in (len(raw), 0):
        create_ledger_table(app.readmodel.engine)
        with app.readmodel.engine.begin() as connection:  # else the line ledger knows them
            connection.execute(delete(line_ledger))
        importer = Importer(app, batch_lines=100, cache_events=20)
        result = importer.run(raw)
        assert (result.written, result.problems) == (expected_written, [])
        kept = list(importer._cache.values())  # what the import holds in memory at its end
        assert 0 < sum(len(o.history) for o in kept) <= 20  # of 1,200-odd events
        assert 0 < result.orders_read < len(raw)  # an order each time it is read back


# A line's length is bounded


def test_an_endless_line_is_a_one_line_refusal_not_a_memory_error(cli: Cli, store: str) -> None:
    """`import /dev/zero` read its one endless line whole, until MemoryError."""
    code, out, err = cli("import", "/dev/zero")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("hotline: /dev/zero: line 1: longer than")
    assert "1,048,576 bytes" in err and "the import stopped there: nothing" in err
    assert "0 events written" in out
    assert stored_events(store) == 0


def test_a_line_past_the_bound_stops_the_import_after_the_batches_before_it(
    app: HotlineApplication, store: str
) -> None:
    good = [received(f"2019-00000{n}", "2019-03-04T10:15:00+08:00") for n in range(1, 4)]
    at_bound = received("2019-000004", "2019-03-04T10:15:00+08:00")
    at_bound += " " * (MAX_LINE_BYTES - len(at_bound.encode()) - 1)  # newline included
    file = io.BytesIO(
        "".join(x + "\n" for x in [*good, at_bound]).encode() + b"{" * (MAX_LINE_BYTES + 1)
    )
    result = Importer(app, batch_lines=2).run(read_lines(file))
    assert [(p.line, p.order) for p in result.problems] == [(5, None)]
    assert "lines 1-4 were imported" in result.problems[0].message
    assert (result.lines, result.written) == (4, 4)
    assert versions(app, "2019-000001", "2019-000004") == [1, 1]
