"""A store that cannot be used (read-only, full, locked, its server gone) is one line, exit 1.

These used to be internal errors (exit 70) quoting SQL. SQLite's cases use a small tmpfs
mounted for the test (as root; skipped where it cannot be mounted): seen through a read-only
bind mount, or filled; PostgreSQL's, a server that terminates the command's connections mid-command.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from hotline.adapters import eventstore
from hotline.cli.main import main
from hotline.domain.order import ORDER_COMMANDS, Order
from stores import postgres_server

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
RECEIVE = ("--unit", MINHANG, "--kind", "complaint", "--channel", "12345")
COMMANDS = [
    ["order", "receive", "S-9", *RECEIVE, "--at", "2026-02-13 11:00"],
    ["order", "first-contact", "S-1", "--at", "2026-02-14 09:00"],
    ["order", "show", "S-1"],
    ["report", "rates", "--period", "2026-02"],
    ["orders", "overdue"],
    ["audit"],
    ["projections", "rebuild"],
    ["projections", "status"],
    ["scheduler", "tick", "--as-of", "2026-02-24 08:00"],
]

READS = [COMMANDS[i] for i in (2, 3, 4, 5, 7)]
"""The commands that write nothing to a store whose read model is caught up (`order show`,
the reports, `audit`, `projections status`): the others write events or the read model."""


def one_line_refusal(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    assert err.startswith("hotline:") and err.count("\n") == 1, err
    assert not any(sql in err for sql in ("SELECT", "INSERT", "UPDATE", "CREATE")), err
    for word in words:
        assert word in err, err


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


@contextlib.contextmanager
def read_only_view(folder: Path, view: Path) -> Iterator[Path]:
    """`folder` seen through a read-only bind mount at `view` (a remount of the tmpfs itself
    would fail while this process keeps a store's file open)."""
    view.mkdir()
    subprocess.run(["mount", "--bind", str(folder), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=True)


def run(db: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def a_store(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db, "order", "receive", "S-1", *RECEIVE, "--at", "2026-02-13 10:00",
               capsys=capsys)[0] == 0  # fmt: skip
    assert run(db, "report", "rates", "--period", "2026-02", capsys=capsys)[0] == 0


def test_a_read_only_store_is_one_line_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk, read_only_view(disk, tmp_path / "ro") as view:
        a_store(disk / "hotline.db", capsys)
        db = view / "hotline.db"
        lines = tmp_path / "more.jsonl"
        lines.write_text(
            '{"order": "S-2", "event": "received", "at": "2026-02-13T10:00:00+08:00", '
            f'"unit": "{MINHANG}", "kind": "complaint", "channel": "12345"}}\n'
        )
        for command in [*COMMANDS, ["import", str(lines)]]:
            code, _, err = run(db, *command, capsys=capsys)
            if code == 0:  # SQLite reads a WAL store on a read-only disk while its -shm exists
                assert command in READS, command
                continue
            one_line_refusal(code, err, "read-only")


def test_a_full_disk_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db = disk / "hotline.db"
        a_store(db, capsys)
        # Unbuffered, and the suppress outermost: the file's close must not flush a write
        # the full disk refused (that raised, outside the suppress, on some free sizes).
        with contextlib.suppress(OSError), (disk / "filler").open("wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        lines = tmp_path / "many.jsonl"
        lines.write_text(
            "".join(
                f'{{"order": "F-{n}", "event": "received", "at": "2026-02-13T10:00:00+08:00", '
                f'"unit": "{MINHANG}", "kind": "complaint", "channel": "12345", '
                f'"summary": "{"长" * 500}"}}\n'
                for n in range(200)
            )
        )
        code, _, err = run(db, "import", str(lines), capsys=capsys)
        one_line_refusal(code, err, "full", "free some space")


def test_a_store_locked_past_the_wait_is_one_line(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a_store(db, capsys)
    monkeypatch.setattr(eventstore, "LOCK_TIMEOUT", 1)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(120)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        for command in (COMMANDS[0], COMMANDS[1]):
            code, _, err = run(db, *command, capsys=capsys)
            one_line_refusal(code, err, "locked by another process", "1 s")
    finally:
        holder.kill()
        holder.wait()
    assert run(db, *COMMANDS[1], capsys=capsys)[0] == 0  # free again: it works


@pytest.mark.skipif(postgres_server() is None, reason="PostgreSQL only")
def test_a_lost_postgresql_connection_is_one_line(
    cli: Cli, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the command's connections mid-command and refuses new ones."""
    assert cli("order", "receive", "S-1", *RECEIVE, "--at", "2026-02-13 10:00")[0] == 0
    url = make_url(store)
    admin = url.set(database="postgres", drivername="postgresql")
    database = sql.Identifier(str(url.database))
    contact = Order.contact

    def cut_off(order: Order, *args: Any, **fields: Any) -> None:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(database))
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (url.database,),
            )
        contact(order, *args, **fields)

    monkeypatch.setitem(ORDER_COMMANDS, "first_contact", cut_off)
    try:
        code, _, err = cli("order", "first-contact", "S-1", "--at", "2026-02-14 09:00")
        one_line_refusal(code, err, "PostgreSQL server", "run the command again")
        code, _, err = cli("report", "rates", "--period", "2026-02")  # a server that refuses
        one_line_refusal(code, err, "cannot open the store")
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database))
    monkeypatch.setitem(ORDER_COMMANDS, "first_contact", contact)
    assert cli("order", "first-contact", "S-1", "--at", "2026-02-14 09:00")[0] == 0
