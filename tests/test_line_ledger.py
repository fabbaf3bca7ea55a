"""The line ledger (issue 19): a JSON Lines batch whose lines were all present or imported is
known on the next import and counted without being parsed; anything else (an edited line,
a problem line, a batch past the old end) is imported line by line. A differential run
against a store whose ledger is emptied before each import gives the same result."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, select

from hotline.adapters.import_ledger import create_ledger_table, line_ledger
from hotline.service import importer as importer_module
from hotline.service.application import HotlineApplication
from hotline.service.import_workers import ParallelImporter
from hotline.service.importer import Importer, ImportResult
from test_exports_import import run, stores
from test_import_workers import KEY, damaged, orders, summary, year
from test_roles import on_postgres, role_of, roles

__all__ = ["roles", "stores", "year"]  # the fixtures, used by name

BATCH = 200


def digests(app: HotlineApplication) -> set[bytes]:
    with app.readmodel.engine.connect() as connection:
        return {bytes(row.digest) for row in connection.execute(select(line_ledger))}


def empty(app: HotlineApplication) -> None:
    create_ledger_table(app.readmodel.engine)
    with app.readmodel.engine.begin() as connection:
        connection.execute(delete(line_ledger))


def imported(app: HotlineApplication, lines: list[bytes], workers: int, **options: Any) -> Any:
    if workers == 1:
        return Importer(app, batch_lines=BATCH, **options).run(lines)
    with ParallelImporter(app, workers, batch_lines=BATCH, **options) as parallel:
        return parallel.run(lines)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The numbers of the lines the importer parses (in this process)."""
    numbers: list[int] = []
    parse = importer_module.json_entry

    def counting(number: int, raw: bytes) -> Any:
        numbers.append(number)
        return parse(number, raw)

    monkeypatch.setattr(importer_module, "json_entry", counting)
    yield numbers


def test_an_unchanged_file_re_imported_parses_no_line_and_counts_as_before(
    year: list[bytes], stores: Callable[[], str], parsed: list[int]
) -> None:
    app = HotlineApplication(db=stores())
    try:
        first = imported(app, year, 1)
        assert first.written == len(year) and first.problems == []
        assert len(digests(app)) == -(-len(year) // BATCH)  # each batch's
        parsed.clear()
        again = imported(app, year, 1)
        assert parsed == []
        assert (again.lines, again.written, again.already_present) == (len(year), 0, len(year))
        assert again.lines_known == len(year)
    finally:
        app.close()


def test_an_edited_line_reimports_its_batch_and_only_its_batch(
    year: list[bytes], stores: Callable[[], str], parsed: list[int]
) -> None:
    app = HotlineApplication(db=stores())
    try:
        imported(app, year, 1)
        edited = list(year)
        index = next(i for i in range(BATCH, 2 * BATCH) if b'"closed"' in year[i])
        item = json.loads(year[index])
        edited[index] = json.dumps({**item, "at": "2019-02-30T10:00"}).encode() + b"\n"
        parsed.clear()
        result = imported(app, edited, 1)
        assert set(parsed) == set(range(BATCH + 1, 2 * BATCH + 1))  # the second batch alone
        assert [p.line for p in result.problems] == [index + 1]
        assert result.lines_known == len(year) - BATCH
    finally:
        app.close()


def test_an_appended_file_knows_its_earlier_batches(
    year: list[bytes], stores: Callable[[], str], parsed: list[int]
) -> None:
    app = HotlineApplication(db=stores())
    try:
        head = year[: 3 * BATCH + 50]
        imported(app, head, 1)
        parsed.clear()
        result = imported(app, year, 1)
        assert min(parsed) == 3 * BATCH + 1  # the last, partial batch is another one now
        assert result.lines_known == 3 * BATCH
        assert result.written == len(year) - len(head) and result.problems == []
    finally:
        app.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_every_import_is_that_of_an_emptied_ledger(
    year: list[bytes], stores: Callable[[], str], workers: int
) -> None:
    """Differential: the same files imported into two stores, the second's ledger emptied
    before each import (so every line is parsed there): the same counts and problems, the
    same orders stored, at each step; problem lines are reported again each time."""
    edited = list(year)
    numbers = [json.loads(line)["order"] for line in year]
    index = next(i for i in range(BATCH, 2 * BATCH)  # a receipt with lines in later batches
                 if b'"received"' in year[i] and numbers[i] in numbers[2 * BATCH :])  # fmt: skip
    receipt = {**json.loads(year[index]), "at": "1999-03-01T10:00:00+08:00"}  # before 2000
    edited[index] = json.dumps(receipt, ensure_ascii=False).encode() + b"\n"
    steps: list[list[bytes]] = [
        year[: 2 * BATCH + 30],  # a first import of the file's head
        year,  # appended to
        year,  # unchanged
        edited,  # an edited line in a known batch
        edited,  # its problem again
        damaged(year, 6),  # blank lines, repeats, bad lines of known orders
        damaged(year, 6),
    ]
    known, emptied = HotlineApplication(db=stores()), HotlineApplication(db=stores())
    try:
        skipped = 0
        for step, lines in enumerate(steps):
            check = imported(known, lines, workers, dry_run=True)
            empty(emptied)
            assert summary(check) == summary(imported(emptied, lines, workers, dry_run=True))
            ours = imported(known, lines, workers)
            empty(emptied)
            theirs: ImportResult = imported(emptied, lines, workers)
            assert summary(ours) == summary(theirs), step
            assert theirs.lines_known == 0
            skipped += ours.lines_known
            if step in (4, 6):
                assert ours.problems  # reported again
            if step in (3, 4):  # its order's lines in known batches are not written
                assert ours.not_written > 0
        assert orders(known, year) == orders(emptied, year)
        assert skipped > 2 * len(year)  # the ledger was used
    finally:
        known.close()
        emptied.close()


def test_check_reads_the_ledger_and_never_writes_it(
    year: list[bytes], stores: Callable[[], str], parsed: list[int]
) -> None:
    app = HotlineApplication(db=stores())
    try:
        result = imported(app, year, 1, dry_run=True)
        assert result.written == len(year) and digests(app) == set()
        imported(app, year[:BATCH], 1)
        before = digests(app)
        parsed.clear()
        result = imported(app, year, 1, dry_run=True)
        assert result.lines_known == BATCH and min(parsed) == BATCH + 1
        assert digests(app) == before
    finally:
        app.close()


def test_the_cli_says_the_same_with_the_ledger_and_without(
    year: list[bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stores: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through `hotline import`, both worker counts, an encrypted store: the same report as
    with the ledger emptied; the digests are keyed by the store's key. The year fills the
    first batch (blank lines after it), its damaged copy the second."""
    path = tmp_path / "damaged.jsonl"
    padding = [b"\n"] * (importer_module.BATCH_LINES - len(year))
    path.write_bytes(b"".join([*year, *padding, *damaged(year, 8)]))
    plain = stores()
    assert run(capsys, plain, "import", "--workers", "1", str(path))[0] == 1
    monkeypatch.setenv("HOTLINE_KEY", KEY)
    sealed = stores()
    first = run(capsys, sealed, "import", "--workers", "2", str(path))
    app = HotlineApplication(db=sealed)
    try:
        kept = digests(app)
        plain_app = HotlineApplication(db=plain)
        try:
            assert kept and not kept & digests(plain_app)
        finally:
            plain_app.close()
        for workers in ("1", "2"):
            again = run(capsys, sealed, "import", "--workers", workers, str(path))
            empty(app)
            without = run(capsys, sealed, "import", "--workers", workers, str(path))
            assert again == without
            assert again[0] == 1 and first[2] == again[2]  # the same problems
            assert digests(app) == kept  # filled again
    finally:
        app.close()


def test_another_unit_registry_is_another_digest(
    year: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    path = tmp_path / "year.jsonl"
    path.write_bytes(b"".join(year))
    assert run(capsys, store, "import", str(path))[0] == 0
    app = HotlineApplication(db=store)
    try:
        before = digests(app)
        code, _, err = run(capsys, store, "units", "add", "测试新增局", "--group", "district",
                             "--from", "2019-01-01")  # fmt: skip
        assert code == 0, err
        assert run(capsys, store, "import", str(path))[0] == 0
        assert digests(app) - before and before <= digests(app)
    finally:
        app.close()


@on_postgres
def test_an_importer_role_keeps_the_line_ledger_and_a_reader_reads_every_line(
    year: list[bytes],
    store: str,
    roles: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    imp, rdr = roles("importer"), roles("reader")
    assert run(capsys, store, "db", "grant", role_of(imp), "--as", "importer")[0] == 0
    assert run(capsys, store, "db", "grant", role_of(rdr), "--as", "reader")[0] == 0
    path = tmp_path / "year.jsonl"
    path.write_bytes(b"".join(year))
    assert run(capsys, imp, "import", str(path))[:3:2] == (0, "")
    app = HotlineApplication(db=store)
    try:
        assert len(digests(app)) == 1
        again = run(capsys, imp, "import", str(path))
        checked = run(capsys, rdr, "import", "--check", str(path))
        assert again[0] == checked[0] == 0 and f"{len(year)} already present" in checked[1]
        assert len(digests(app)) == 1
    finally:
        app.close()
    with psycopg.connect(rdr) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute("SELECT * FROM import_line_ledger")
