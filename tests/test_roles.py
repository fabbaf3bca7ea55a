"""`hotline db`: the tables made only by their owner, roles, and whom a role records as."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from hotline.cli.main import main
from hotline.service.application import HotlineApplication
from hotline.service.scheduler import Daemon
from stores import POSTGRES_ENV, fresh_database, postgres_server, stored_events

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


def test_db_init_and_upgrade_on_sqlite_make_the_store(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite = functools.partial(run, str(db), capsys)
    code, out, err = sqlite("db", "init")
    assert (code, err) == (0, "") and out == f"{db}: tables ready\n"
    assert sqlite("db", "upgrade") == (0, f"{db}: tables ready\n", "")  # nothing to change
    receive(sqlite, "S-1")


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
    assert out.endswith(": tables ready; read model rebuilt in the new layout (1 event)\n")
    code, out, _ = cli("projections", "status")
    assert (code, out) == (
        0,
        "read model at notification 1 of 1: 1 event stored, 0 not yet applied; 1 order\n",
    )
    assert cli("db", "upgrade")[1].endswith(": tables ready\n")  # nothing more to do


@pytest.fixture
def roles(store: str) -> Iterator[Callable[[str], str]]:
    """Make login roles (unique random names, dropped afterwards): `role(part)` gives the
    store's URL as a new role."""
    made: list[str] = []

    def role(part: str) -> str:
        name = f"hotline_{part}_{uuid4().hex[:12]}"
        with psycopg.connect(store, autocommit=True) as connection:
            # The owner's password, which PGPASSWORD gives (tests/stores.py), or none.
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(os.environ.get("PGPASSWORD"))
                )
            )
        made.append(name)
        return make_url(store).set(username=name).render_as_string(hide_password=False)

    yield role
    with psycopg.connect(store, autocommit=True) as connection:
        for name in made:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def role_of(url: str) -> str:
    return str(make_url(url).username)


@on_postgres
def test_each_part_works_with_its_own_role_and_none_can_alter_the_record(
    store: str, roles: Callable[[str], str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    owner = functools.partial(run, store, capsys)
    ops, imp, sch, rdr = (roles(part) for part in ("operator", "importer", "scheduler", "reader"))
    for url, part in ((ops, "operator"), (imp, "importer"), (sch, "scheduler"), (rdr, "reader")):
        code, out, err = owner("db", "grant", role_of(url), "--as", part)
        assert (code, err) == (0, ""), err
        assert out == f"{role_of(url)} granted the part of {part}\n"
    assert owner("db", "allow", role_of(ops), "--actor", "王芳")[0] == 0
    assert owner("db", "allow", role_of(ops), "--actor", "王芳")[1].endswith("(it already could)\n")
    assert owner("db", "allow", "hotline_nobody", "--actor", "王芳")[2] == (
        "hotline: there is no database role hotline_nobody; create it first (createuser)\n"
    )

    as_ops = functools.partial(run, ops, capsys)
    receive(as_ops, "R-1")
    assert (
        as_ops("order", "first-contact", "R-1", "--at", "2026-02-13 09:00", "--method", "电话")[0]
        == 0
    )
    code, _, err = as_ops("--actor", "王芳", "order", "close", "R-1", "--at",
                          "2026-02-24 10:00", "--result", "实际解决")  # fmt: skip
    assert (code, err) == (0, "")
    code, out, err = as_ops("--actor", "李四", "order", "rate", "R-1", "--at",
                            "2026-02-25 10:00", "--rating", "满意")  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        f"hotline: database role {role_of(ops)} may not record as '李四'; the database owner "
        f"allows it with `hotline db allow {role_of(ops)} --actor 李四`\n"
    )

    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps({"order": "R-2", "event": "received", "unit": MINHANG,
                                 "kind": "complaint", "channel": "12345",
                                 "at": "2026-02-12T11:00:00+08:00"}) + "\n")  # fmt: skip
    code, _, err = run(imp, capsys, "import", str(lines))
    assert (code, err) == (0, "")
    code, _, err = run(sch, capsys, "scheduler", "tick", "--as-of", "2026-02-24 08:00")
    assert (code, err) == (0, "")
    daemon = Daemon(HotlineApplication(db=sch), on_pass=lambda _: None, on_error=print)
    daemon.start()  # the scheduler keeps its job in the store
    daemon.stop()
    assert run(sch, capsys, "scheduler", "status")[1].startswith("passes at 08:00, 12:00")

    for url in (ops, imp, sch, rdr):
        code, out, err = run(url, capsys, "report", "rates", "--period", "2026-02")
        assert (code, err) == (0, ""), err
    code, out, err = run(rdr, capsys, "audit", "--format", "json")
    assert (code, err) == (0, "")
    trail = [(r["event"], r["actor"], r["role"]) for r in json.loads(out)["rows"]]
    assert trail[:3] == [("received", role_of(ops), role_of(ops)),
                         ("first_contact", role_of(ops), role_of(ops)),
                         ("closed", "王芳", role_of(ops))]  # fmt: skip
    assert ("received", role_of(imp), role_of(imp)) in trail
    assert ("flagged", role_of(sch), role_of(sch)) in trail
    code, out, _ = run(rdr, capsys, "audit", "R-1")
    assert f"{role_of(ops)} (王芳)" in out

    code, out, err = run(rdr, capsys, "order", "receive", "R-3", "--unit", MINHANG,
                         "--kind", "投诉", "--channel", "12345")  # fmt: skip
    assert (code, out) == (1, "") and err.startswith("hotline: could not write to the store")
    assert "permission denied" in err and err.count("\n") == 1

    assert owner("db", "disallow", role_of(ops), "--actor", "王芳")[0] == 0
    code, _, err = as_ops("--actor", "王芳", "order", "rate", "R-1", "--at", "2026-02-25 10:00",
                          "--rating", "满意")  # fmt: skip
    assert code == 1 and err.startswith(f"hotline: database role {role_of(ops)} may not record")

    with psycopg.connect(ops, autocommit=True) as connection:
        for statement in (
            "UPDATE hotline_events SET state = state",
            "DELETE FROM hotline_events",
            "TRUNCATE hotline_events",
            "DROP TABLE hotline_events",
            "INSERT INTO hotline_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, 99, topic, state FROM hotline_events LIMIT 1",
            "INSERT INTO hotline_actors VALUES (current_user, '李四')",
            "CREATE TABLE mine (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)
    assert stored_events(store) == 5  # 3 by the operator, 1 imported, R-2 flagged


@on_postgres
def test_grant_print_writes_nothing_and_an_upgrade_keeps_the_grants(
    store: str, roles: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    owner = functools.partial(run, store, capsys)
    ops = roles("operator")
    code, out, err = owner("db", "grant", role_of(ops), "--as", "operator", "--print")
    assert (code, err) == (0, "")
    assert f'GRANT EXECUTE ON FUNCTION "public"."es_insert_events_uuid" TO "{role_of(ops)}";' in out
    code, _, err = run(ops, capsys, "order", "show", "X")  # nothing was granted
    assert code == 1 and err.startswith("hotline: cannot open the store postgresql://")
    assert "permission denied" in err and err.count("\n") == 1
    assert err.endswith("grants a role its part with `hotline db grant ROLE --as PART`\n")

    assert owner("db", "grant", role_of(ops), "--as", "operator")[0] == 0
    receive(functools.partial(run, ops, capsys), "G-1")
    with psycopg.connect(store, autocommit=True) as connection:
        connection.execute("UPDATE rm_tracking SET name = 'orders-v0'")
    assert owner("db", "upgrade")[0] == 0  # drops and remakes the read model's tables
    code, out, err = run(ops, capsys, "projections", "status")
    assert (code, out, err) == (
        0,
        "read model at notification 1 of 1: 1 event stored, 0 not yet applied; 1 order\n",
        "",
    )

    code, out, err = owner("db", "grant", "hotline_no_such_role", "--as", "reader")
    assert code == 1 and err.startswith("hotline: cannot grant hotline_no_such_role")
    assert 'role "hotline_no_such_role" does not exist' in err and err.count("\n") == 1


def test_db_grant_is_for_postgresql(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(str(db), capsys, "db", "allow", "ops1", "--actor", "王芳")
    assert (code, out) == (1, "")
    assert err.startswith("hotline: `hotline db allow` is for PostgreSQL stores")


@on_postgres
def test_a_password_in_db_is_warned_of_once(
    store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = os.environ.get("PGPASSWORD") or "unused"
    with_password = make_url(store).set(password=password).render_as_string(hide_password=False)
    code, _, err = run(with_password, capsys, "order", "show", "W-1")
    assert code == 1 and "no order W-1" in err
    warning, refusal = err.splitlines()
    assert warning == (
        "hotline: warning: a password in --db is shown to every user of this machine (ps); "
        "leave it out of the URL and set PGPASSWORD or use ~/.pgpass"
    )
    monkeypatch.setenv("HOTLINE_DB", with_password)  # not on the command line: no warning
    assert main(["order", "show", "W-1"]) == 1
    assert capsys.readouterr().err.splitlines() == [refusal]


@on_postgres
@pytest.mark.parametrize("source", ["PGPASSFILE", "PGSERVICE"])
def test_the_password_may_come_from_a_password_or_service_file(
    store: str,
    source: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The event store's connections, the read model's and the job store's all find it."""
    password = os.environ.get("PGPASSWORD")
    if password is None:
        pytest.skip("the test server takes no password")
    monkeypatch.delenv("PGPASSWORD")
    user = make_url(store).username
    if source == "PGPASSFILE":
        (tmp_path / "pgpass").write_text(f"*:*:*:{user}:{password}\n")
        (tmp_path / "pgpass").chmod(0o600)
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    else:
        (tmp_path / "services").write_text(f"[hotline]\npassword={password}\n")
        monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "services"))
        monkeypatch.setenv("PGSERVICE", "hotline")
    monkeypatch.setenv("PGPASSFILE" if source == "PGSERVICE" else "PGSERVICEFILE", "/nonexistent")
    receive(functools.partial(run, store, capsys), "F-1")
    for command in (["report", "rates", "--period", "2026-02"], ["scheduler", "status"]):
        code, _, err = run(store, capsys, *command)
        assert (code, err) == (0, "")
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    monkeypatch.setenv("PGSERVICEFILE", "/nonexistent")
    monkeypatch.delenv("PGSERVICE", raising=False)
    code, _, err = run(store, capsys, "order", "show", "F-1")  # no password from anywhere
    assert code == 1 and "password" in err and err.count("\n") == 1


@on_postgres
def test_audit_shows_the_role_the_server_recorded_not_the_one_the_client_wrote(
    store: str, roles: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    ops = roles("operator")
    assert run(store, capsys, "db", "grant", role_of(ops), "--as", "operator")[0] == 0
    liar = HotlineApplication(db=ops)
    liar.role = liar.actor = "hotline_someone_else"  # a client that writes another role
    liar.receive("L-1", unit=MINHANG, kind="complaint", channel="12345")
    assert liar.order("L-1").history[0].role == "hotline_someone_else"  # as written
    liar.close()

    code, out, err = run(store, capsys, "audit", "--format", "json")
    assert (code, err) == (0, "")
    assert [(r["actor"], r["role"]) for r in json.loads(out)["rows"]] == [
        ("hotline_someone_else", role_of(ops))
    ]
    code, out, err = run(store, capsys, "audit", "L-1", "--format", "json")
    assert [r["role"] for r in json.loads(out)["rows"]] == [role_of(ops)]


@on_postgres
def test_a_store_without_the_recorded_by_column_needs_db_upgrade(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    receive(functools.partial(run, store, capsys), "C-1")
    with psycopg.connect(store, autocommit=True) as connection:
        connection.execute("ALTER TABLE hotline_events DROP COLUMN recorded_by")
    code, out, err = run(store, capsys, "order", "show", "C-1")
    assert (code, out) == (1, "")
    assert err == (
        "hotline: the store lacks hotline_events.recorded_by, of a newer layout; run "
        "`hotline db upgrade` as the database owner\n"
    )
    assert run(store, capsys, "db", "upgrade")[0] == 0
    code, out, err = run(store, capsys, "audit", "C-1", "--format", "json")
    assert (code, err) == (0, "")  # stored before the column: the role the event holds
    assert [r["role"] for r in json.loads(out)["rows"]] == [make_url(store).username]


@on_postgres
def test_the_scheduler_role_delivers_alerts_and_a_reader_sees_the_deliveries(
    store: str,
    roles: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alert_receivers import Robot, robot_server

    owner = functools.partial(run, store, capsys)
    sch, rdr = roles("scheduler"), roles("reader")
    for url, part in ((sch, "scheduler"), (rdr, "reader")):
        assert owner("db", "grant", role_of(url), "--as", part)[0] == 0
    as_sch = functools.partial(run, sch, capsys)
    receive(as_sch, "R-1")
    assert as_sch("scheduler", "tick", "--as-of", "2026-02-24 09:00")[0] == 0
    routing = tmp_path / "routing.toml"
    routing.write_text('[[route]]\nname = "h"\nchannel = "webhook"\nurl_env = "T_HOOK"\n')
    with robot_server(Robot()) as robot:
        monkeypatch.setenv("T_HOOK", robot.url("/hook"))
        code, out, err = as_sch("alerts", "deliver", "--routing", str(routing), "--since",
                                "2026-02-01 00:00")  # fmt: skip
        assert (code, err) == (0, ""), err
        assert {g.body["order"] for g in robot.received} == {"R-1"}
    code, out, err = run(rdr, capsys, "alerts", "deliveries", "--format", "jsonl")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == len(robot.received) and '"status": "sent"' in out


@on_postgres
def test_alerts_deliver_as_an_operator_is_refused_in_one_line_naming_the_scheduler_part(
    store: str,
    roles: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alert_receivers import Robot, robot_server

    owner = functools.partial(run, store, capsys)
    ops = roles("operator")
    assert owner("db", "grant", role_of(ops), "--as", "operator")[0] == 0
    receive(owner, "R-1")
    assert owner("scheduler", "tick", "--as-of", "2026-02-24 09:00")[0] == 0
    routing = tmp_path / "routing.toml"
    routing.write_text('[[route]]\nname = "h"\nchannel = "webhook"\nurl_env = "T_HOOK"\n')
    deliver = ("alerts", "deliver", "--routing", str(routing), "--since", "2026-02-01 00:00")
    with robot_server(Robot()) as robot:
        monkeypatch.setenv("T_HOOK", robot.url("/hook"))
        code, out, err = run(ops, capsys, *deliver)
        assert (code, out) == (1, "")
        assert err == (
            f"hotline: database role {role_of(ops)} may not deliver alerts (the alert outbox is "
            "the scheduler's part); run it as a role granted `hotline db grant ROLE --as "
            "scheduler`\n"
        )
        assert robot.received == []
        assert owner("alerts", "deliveries", "--format", "jsonl")[1] == ""
        code, _, err = owner(*deliver)  # the owner may
        assert (code, err) == (0, "") and {g.body["order"] for g in robot.received} == {"R-1"}
