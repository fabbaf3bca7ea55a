"""Hardening: owner-only files, and input with SQL in it kept as data."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline.service.application import HotlineApplication
from stores import stored_events

Cli = Callable[..., tuple[int, str, str]]
INJECTION = "x'); DROP TABLE stored_events; --"
MINHANG = "闵行区市场监管局"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files are world-readable unless created otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_only(store: str) -> Path:
    if "://" in store:
        pytest.skip("about SQLite files; the store is PostgreSQL")
    return Path(store)


@pytest.mark.usefixtures("umask_022")
def test_a_new_store_is_owner_only(store: str) -> None:
    db = sqlite_only(store)
    app = HotlineApplication(db=store)
    try:
        app.receive("2026-000001", unit=MINHANG, kind="complaint", channel="12345")
        app.readmodel.position()  # the read model's connection opened too
        files = sorted(db.parent.iterdir())
        assert {p.name for p in files} >= {db.name, f"{db.name}-wal", f"{db.name}-shm"}
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        app.close()
    assert mode(db.parent) == 0o700


@pytest.mark.usefixtures("umask_022")
def test_processes_opening_a_new_store_at_once(store: str) -> None:
    db = sqlite_only(store)
    receive = [sys.executable, "-m", "hotline", "--db", store, "order", "receive"]
    options = ["--unit", MINHANG, "--kind", "投诉", "--channel", "12345"]
    writers = [
        subprocess.Popen(
            [*receive, f"2026-00000{i}", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    assert stored_events(store) == 4
    assert mode(db) == 0o600


@pytest.mark.usefixtures("umask_022")
def test_a_workbook_is_owner_only(cli: Cli, tmp_path: Path) -> None:
    workbook = tmp_path / "scores.xlsx"
    code, _, err = cli(
        "report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2019",
        "--output", str(workbook),
    )  # fmt: skip
    assert code == 0, err
    assert mode(workbook) == 0o600


def test_input_with_sql_in_it_is_data(cli: Cli, store: str) -> None:
    code, _, err = cli(
        "order", "receive", INJECTION, "--unit", MINHANG, "--kind", "投诉", "--channel", "12345"
    )
    assert (code, err.count("\n")) == (1, 1)
    assert "an order number is 1-64 letters" in err
    for refused in (
        (
            "order",
            "receive",
            "2026-000001",
            "--unit",
            INJECTION,
            "--kind",
            "投诉",
            "--channel",
            "12345",
        ),
        ("report", "rates", "--unit", INJECTION, "--period", "2019"),
        ("orders", "overdue", "--unit", f"{MINHANG}' OR '1'='1"),
        ("order", "show", INJECTION),
    ):
        code, _, err = cli(*refused)
        assert (code, err.count("\n")) == (1, 1), err

    code, _, err = cli(
        "order", "receive", "2019-000001", "--unit", MINHANG, "--kind", "投诉", "--channel",
        "12345", "--at", "2019-03-01 10:00", "--summary", INJECTION,
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli(
        "finding", "add", "--rubric", "market-office-2017", "--item", "data_standard",
        "--order", "2019-000001", "--day", "2019-03-02", "--note", INJECTION,
    )  # fmt: skip
    assert code == 0, err

    code, out, err = cli("order", "show", "2019-000001", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["events"][0]["summary"] == INJECTION
    code, out, err = cli("finding", "list", "--period", "2019", "--format", "json")
    assert code == 0, err
    assert [row["note"] for row in json.loads(out)["rows"]] == [INJECTION]
    code, out, err = cli("projections", "rebuild")
    assert code == 0, err
    assert out.strip() == "read model rebuilt from 2 events; 1 order"
    assert stored_events(store) == 2
