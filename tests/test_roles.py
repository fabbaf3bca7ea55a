"""`hotline db`: the tables made only by their owner, roles, and whom a role records as."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from hotline.cli.main import main
from stores import POSTGRES_ENV, fresh_database, postgres_server

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"

on_postgres = pytest.mark.skipif(
    postgres_server() is None,
    reason=f"no PostgreSQL server: set {POSTGRES_ENV} to the URL scripts/postgres prints",
)


@pytest.fixture
def bare() -> Iterator[str]:
    """A new PostgreSQL database that `hotline db init` has not set up."""
    with fresh_database(str(postgres_server()), init=False) as url:
        yield url


def run(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


def receive(cli: Cli, number: str) -> None:
    code, _, err = cli("order", "receive", number, "--unit", MINHANG, "--kind", "投诉",
                       "--channel", "12345", "--at", "2026-02-12 10:00")  # fmt: skip
    assert code == 0, err


def test_db_init_on_sqlite_makes_the_store(cli: Cli, db: Path) -> None:
    code, out, err = cli("--db", str(db), "db", "init")
    assert (code, err) == (0, "") and out == f"{db}: tables ready\n"
    assert cli("--db", str(db), "db", "init")[0] == 0  # again: nothing changes
    receive(cli, "S-1")


@on_postgres
def test_a_database_without_init_is_refused_in_one_line_and_nothing_is_created(
    bare: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["order", "receive", "N-1", "--unit", MINHANG, "--kind", "投诉",
                     "--channel", "12345"], ["report", "rates", "--period", "2026"],
                    ["audit"], ["scheduler", "tick"]):  # fmt: skip
        code, out, err = run(bare, capsys, *command)
        assert (code, out) == (1, "")
        assert err == (
            "hotline: the store has no hotline tables; run `hotline db init` as the database "
            "owner\n"
        )
    assert tables(bare) == set()

    code, out, err = run(bare, capsys, "db", "init")
    assert (code, err) == (0, "") and out.endswith(": tables ready\n")
    assert {"hotline_events", "hotline_actors", "rm_orders", "scheduler_jobs"} <= tables(bare)
    assert run(bare, capsys, "db", "init")[0] == 0  # idempotent


NO_DDL = """
CREATE FUNCTION refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'DDL refused: %', tg_tag; END $$;
CREATE EVENT TRIGGER refuse_ddl ON ddl_command_start EXECUTE FUNCTION refuse_ddl();
"""


@on_postgres
def test_ordinary_commands_run_no_ddl(
    store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With every DDL statement refused by an event trigger, every command still works."""
    with psycopg.connect(store, autocommit=True) as connection:
        connection.execute(NO_DDL)

    def cli(*args: str) -> tuple[int, str, str]:
        return run(store, capsys, *args)

    receive(cli, "D-1")
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps({"order": "D-1", "event": "first_contact", "method": "phone",
                                 "at": "2026-02-13T09:00:00+08:00"}) + "\n")  # fmt: skip
    for command in (
        ["import", str(lines)],
        ["report", "rates", "--period", "2026-02"],
        ["projections", "rebuild"],
        ["scheduler", "tick", "--as-of", "2026-02-24 08:00"],
        ["scheduler", "status"],
        ["alerts"],
        ["audit"],
        ["orders", "overdue"],
    ):
        code, _, err = cli(*command)
        assert code == 0, (command, err)
    assert "DDL refused" in cli("db", "init")[2]  # the trigger works: init runs DDL


@on_postgres
def test_a_read_model_of_an_older_layout_needs_db_upgrade(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def cli(*args: str) -> tuple[int, str, str]:
        return run(store, capsys, *args)

    receive(cli, "U-1")
    with psycopg.connect(store, autocommit=True) as connection:
        connection.execute("UPDATE rm_tracking SET name = 'orders-v0'")
    upgrade = "run `hotline db upgrade` as the database owner\n"
    for command in (["report", "rates", "--period", "2026"], ["order", "show", "U-1"],
                    ["db", "init"]):  # fmt: skip
        code, out, err = cli(*command)
        assert (code, out) == (1, "")
        assert err == f"hotline: the store's read model is of an older layout; {upgrade}"

    code, out, err = cli("db", "upgrade")
    assert (code, err) == (0, "")
    assert out.endswith(": tables ready; read model rebuilt in the new layout (1 events)\n")
    code, out, _ = cli("projections", "status")
    assert (code, out) == (0, "read model at event 1 of 1 (0 behind); 1 orders\n")
    assert cli("db", "upgrade")[1].endswith(": tables ready\n")  # nothing more to do
