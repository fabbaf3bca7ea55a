"""The CLI on a PostgreSQL store, chosen by URL (needs $HOTLINE_TEST_POSTGRES: scripts/postgres)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from hotline.cli.main import main
from hotline.service.application import HotlineApplication
from stores import POSTGRES_ENV, fresh_database, postgres_server, stored_events

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"

pytestmark = pytest.mark.skipif(
    postgres_server() is None,
    reason=f"no PostgreSQL server: set {POSTGRES_ENV} to the URL scripts/postgres prints",
)


@pytest.fixture
def url() -> Iterator[str]:
    """A fresh database's `postgres://` URL (the short scheme, which the CLI also takes)."""
    with fresh_database(str(postgres_server())) as fresh:
        yield make_url(fresh).set(drivername="postgres").render_as_string(hide_password=False)


@pytest.fixture
def pg(url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def receive(pg: Cli, number: str, at: str) -> None:
    code, _, err = pg("order", "receive", number, "--unit", MINHANG, "--kind", "投诉",
                      "--channel", "12345", "--at", at)  # fmt: skip
    assert code == 0, err


def test_orders_reports_projections_scheduler_and_alerts(pg: Cli, url: str) -> None:
    receive(pg, "P-1", "2026-02-12 10:00")
    receive(pg, "P-2", "2026-02-13 10:00")
    assert (
        pg("order", "first-contact", "P-1", "--at", "2026-02-13 09:00", "--method", "电话")[0] == 0
    )
    assert pg("order", "close", "P-1", "--at", "2026-02-24 10:00", "--result", "实际解决")[0] == 0
    assert pg("order", "rate", "P-1", "--at", "2026-02-25 10:00", "--rating", "满意")[0] == 0
    assert stored_events(url) == 5

    code, out, err = pg("report", "rates", "--unit", MINHANG, "--period", "2026-02",
                        "--format", "json")  # fmt: skip
    assert code == 0, err
    (row,) = [r for r in json.loads(out)["rows"] if r["name"] == MINHANG]
    assert (row["volume"], row["first_contact_rate"], row["satisfaction"]) == (2, 50.0, 100.0)

    code, out, err = pg("projections", "rebuild")
    assert code == 0, err
    code, out, err = pg("projections", "status")
    assert (code, out) == (
        0,
        ("read model at notification 5 of 5: 5 events stored, 0 not yet applied; 2 orders\n"),
    )

    code, out, err = pg("scheduler", "tick", "--as-of", "2026-02-24 08:00")
    assert code == 0, err
    code, out, err = pg("alerts", "--format", "jsonl")
    assert code == 0, err
    alerts = [json.loads(line) for line in out.splitlines()]
    assert {(a["order"], a["limit"]) for a in alerts} >= {("P-2", "first_contact")}
    assert pg("scheduler", "tick", "--as-of", "2026-02-24 08:00")[0] == 0
    assert pg("alerts", "--format", "jsonl")[1] == out  # a second pass flags nothing again

    # Events, read model and the scheduler's job store share the one database.
    tables = set(inspect(HotlineApplication(db=url).readmodel.engine).get_table_names())
    assert {"hotline_events", "rm_orders", "rm_flags", "rm_tracking"} <= tables


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"password": "wrong"}, "password authentication failed"),
        ({"port": 1}, "Connection refused"),
        ({"database": "hotline_no_such_database"}, 'database "hotline_no_such_database"'),
    ],
)
def test_a_store_that_cannot_be_opened_is_one_line(
    url: str, change: dict[str, object], words: str
) -> None:
    """In HOTLINE_DB (only `--db` is shown by ps, and warned of)."""
    bad = make_url(url).set(**change).render_as_string(hide_password=False)  # type: ignore[arg-type]
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "order", "show", "P-1"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOTLINE_DB": bad},
    )
    assert done.returncode == 1
    assert done.stderr.startswith("hotline: cannot open the store postgresql://"), done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert f":{make_url(bad).password}@" not in done.stderr
    if "password" in change:
        assert ":***@" in done.stderr


def test_projections_follow_hears_new_events(url: str) -> None:
    """With a look only every 10 minutes, only LISTEN/NOTIFY can bring the new order in."""

    def hotline(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "hotline", "--db", url, *args],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout

    hotline("projections", "status")  # creates the tables
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline", "--db", url, "projections", "follow",
         "--interval", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(120, process.kill)  # a missed notification fails, not hangs
    watchdog.start()
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("following the store as events are stored (LISTEN/NOTIFY)")
        hotline("order", "receive", "L1", "--unit", MINHANG, "--kind", "投诉",
                "--channel", "12345", "--at", "2026-02-13 10:00")  # fmt: skip
        applied = process.stdout.readline()
        assert applied.endswith("applied 1 event; read model at event 1\n"), applied
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
        process.kill()
    assert (process.returncode, err) == (0, "")
    assert out.strip() == "stopped following; read model at event 1"
