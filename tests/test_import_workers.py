"""A JSON Lines import in parallel workers (service/import_workers.py) against the same import
in one process: the same report, the same store, whatever the file's bad lines."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.cli.main import main
from hotline.domain.errors import OrderNotFound
from hotline.service.application import HotlineApplication
from hotline.service.import_workers import ParallelImporter, order_key, worker_of
from hotline.service.importer import Importer, ImportResult, json_entry

GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """A generated year of 300 orders, as lines."""
    path = tmp_path_factory.mktemp("year") / "year.jsonl"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "300", "--seed", "7", "--output", str(path)],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return path.read_bytes().splitlines(keepends=True)


def damaged(lines: list[bytes], seed: int) -> list[bytes]:
    """`lines` with a few of each kind of trouble at random places: bad values and broken
    JSON naming an order, an order number written with an escape, lines repeated, blank
    lines, an event of an order never received, an unknown unit, a nested "order"."""
    rng = random.Random(seed)
    out = list(lines)

    def place(line: bytes) -> None:
        out.insert(rng.randrange(len(out) + 1), line)

    for _ in range(4):
        item = json.loads(rng.choice(lines))
        place(json.dumps({**item, "at": "not a time"}, ensure_ascii=False).encode() + b"\n")
        place(b'{"order": "%s", "event": broken\n' % item["order"].encode())
        place(rng.choice(lines))  # already present, or repeated in the file
        place(b"\n")
    for index in rng.sample(range(len(lines)), 6):  # the same line, its number escaped
        item = json.loads(lines[index])
        text = json.dumps(item, ensure_ascii=False)
        escaped = item["order"].replace("-", "\\u002d")
        out[out.index(lines[index])] = text.replace(item["order"], escaped, 1).encode() + b"\n"
    place(json.dumps({"order": "2019-999999", "event": "first_contact",
                      "at": "2019-05-05T10:00:00+08:00"}).encode() + b"\n")  # fmt: skip
    item = json.loads(next(line for line in lines if b'"received"' in line))
    place(json.dumps({**item, "order": "2019-999998", "unit": "nowhere"}).encode() + b"\n")
    place(b'{"event": "closed", "x": {"order": "2019-000003"}}\n')
    return out


def orders(app: HotlineApplication, lines: list[bytes]) -> dict[str, Any]:
    """Every order the lines name, as stored: each event's name, time and fields."""
    found: dict[str, Any] = {}
    for number, raw in enumerate(lines, start=1):
        key = order_key(number, raw)
        if key is None or key in found:
            continue
        try:
            history = app.order(key).history
        except OrderNotFound:
            found[key] = None
            continue
        found[key] = [(e.name, e.at, e.payload(), e.actor, e.originator_version) for e in history]
    return found


def summary(result: ImportResult) -> tuple[Any, ...]:
    return (result.lines, result.written, result.already_present, result.not_written,
            [str(p) for p in result.problems])  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_workers_import_as_one_process_does(
    year: list[bytes], store: str, other_store: str, seed: int
) -> None:
    """The same problems in the same order, the same counts, the same orders stored; again
    on a second import (all already present) and on a dry run."""
    lines = damaged(year, seed)
    one, two = HotlineApplication(db=store), HotlineApplication(db=other_store)
    runs: list[tuple[Any, ...]] = []
    for check in (True, False, False):
        single = Importer(one, batch_lines=200, dry_run=check).run(lines)
        with ParallelImporter(two, 2, batch_lines=200, dry_run=check) as parallel:
            split = parallel.run(lines)
        assert summary(split) == summary(single)
        runs.append(summary(single))
    assert orders(two, lines) == orders(one, lines)
    (_, would, _, _, problems), (_, written, _, rejected, _), (_, again, present, _, _) = runs
    assert would == written > 0 and again == 0 and present > 0  # the store took the file
    assert problems and rejected > 0  # the bad lines rejected their orders


def test_each_line_goes_to_the_worker_of_its_parsed_order(year: list[bytes]) -> None:
    """The pattern that shares lines out names the order the line's parse does, for every
    kind of damage (an order's lines must all reach one worker)."""
    for number, raw in enumerate(damaged(year, 4), start=1):
        entry = json_entry(number, raw)
        parsed = entry.records[0].order if entry.records else entry.order
        assert order_key(number, raw) == parsed
    assert {worker_of(order_key(1, raw), 2) for raw in year} == {0, 1}


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Cli:
    def hotline(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return hotline


def test_the_cli_reports_the_same_with_workers_and_without(
    year: list[bytes], tmp_path: Path, run: Cli, store: str, other_store: str
) -> None:
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"".join(damaged(year, 5)))
    one, two = store, other_store
    single = run("--db", one, "import", "--workers", "1", str(path))
    split = run("--db", two, "import", "--workers", "2", str(path))
    assert single[0] == 1 and split == single
    assert run("--db", two, "verify")[0] == 0  # each worker's chains hold


def test_workers_encrypt_with_the_store_key(
    year: list[bytes], tmp_path: Path, run: Cli, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "year.jsonl"
    path.write_bytes(b"".join(year))
    monkeypatch.setenv("HOTLINE_KEY", KEY)
    code, out, _ = run("--db", store, "import", "--workers", "2", str(path))
    assert code == 0 and f"{len(year)} events written" in out
    monkeypatch.delenv("HOTLINE_KEY")
    code, _, err = run("--db", store, "order", "show", "2019-000001")
    assert code == 1 and "encrypted" in err
    monkeypatch.setenv("HOTLINE_KEY", KEY)
    assert run("--db", store, "order", "show", "2019-000001")[0] == 0


def test_a_batch_another_writer_changed_is_imported_again(year: list[bytes], store: str) -> None:
    """Another writer saves an event of an order of the batch just before the batch is
    inserted: the insert fails, the workers forget the batch and their orders, and the batch
    is done again from a fresh read, finding that event already present."""
    app, other = HotlineApplication(db=store), HotlineApplication(db=store)
    item = json.loads(next(line for line in year[200:] if b'"received"' not in line))
    fields = {k: v for k, v in item.items() if k not in ("order", "event", "at")}
    insert = app.insert_stored
    raced: list[int] = []

    def racing(stored: list[Any]) -> None:
        if not raced and app.exists(item["order"]):  # its receipt is in; this event is next
            at = datetime.fromisoformat(item["at"])
            other.record(item["order"], item["event"], at=at, **fields)
            raced.append(1)
        insert(stored)

    app.insert_stored = racing  # type: ignore[method-assign]
    with ParallelImporter(app, 2, batch_lines=100) as parallel:
        result = parallel.run(year)
    assert raced and result.problems == []
    assert (result.written, result.already_present) == (len(year) - 1, 1)
    assert sum(len(o.history) for o in map(app.order, {json.loads(x)["order"] for x in year})) == (
        len(year)
    )


SMALL_BATCHES = [
    sys.executable,
    "-c",
    "import sys; from hotline.service.import_workers import ParallelImporter; "
    "ParallelImporter.__init__.__defaults__ = (10,); "
    "from hotline.cli.main import main; sys.exit(main(sys.argv[1:]))",
]
"""`hotline` with the parallel import's batches of 10 lines, so that a stop finds it between
two of its many transactions, or in one."""


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_import_says_what_it_committed_and_resumes(
    year: list[bytes], tmp_path: Path, run: Cli, store: str, other_store: str, stop: int
) -> None:
    """SIGTERM or Ctrl-C to the import's process group (as a service manager or a terminal
    sends them) once a batch is in: one line on stderr, no traceback from the writer or its
    workers, the batches committed kept whole; importing again completes the store."""
    path = tmp_path / "year.jsonl"
    path.write_bytes(b"".join(year))
    app = HotlineApplication(db=store)
    importing = subprocess.Popen(
        [*SMALL_BATCHES, "--db", store, "import", "--workers", "2", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not app.recorder.max_notification_id():
        assert importing.poll() is None and time.monotonic() < deadline, importing.communicate()
        time.sleep(0.005)
    os.killpg(importing.pid, stop)
    out, err = importing.communicate(timeout=120)
    committed = int(app.recorder.max_notification_id() or 0)
    assert (importing.returncode, out) == (1, ""), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("hotline: the import stopped on ") and "import the file again" in err
    assert f": {committed} events written in the batches committed" in err
    assert 0 < committed < len(year)
    assert run("--db", store, "verify")[0] == 0
    code, again, _ = run("--db", store, "import", "--workers", "2", str(path))
    assert (code, again) == (0, f"{path}: {len(year)} lines, {len(year) - committed} events "
                             f"written, {committed} already present\n")  # fmt: skip
    assert run("--db", other_store, "import", "--workers", "1", str(path))[0] == 0
    assert orders(app, year) == orders(HotlineApplication(db=other_store), year)
