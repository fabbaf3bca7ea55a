"""The commands that read a whole period read it a batch of orders at a time (issue 19, the
city's volume): `orders overdue`, `scheduler tick`, `export orders` and `report explain
--rubric` give, with batches of 7 orders, what they give with the period in one batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hotline.adapters import readmodel as readmodel_module
from hotline.cli.main import main

GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
SMALL = 7
"""Orders a batch: far fewer than the year's, so every command reads many batches."""
WHOLE = sys.maxsize
"""Orders a batch that hold any period in one."""
MINHANG = "闵行区市场监管局"
PUDONG = "浦东新区市场监管局"
"""The bureau with the most orders in the generated year, of many batches."""


@pytest.fixture(scope="module")
def year_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("city") / "year-2019.jsonl"
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--year", "2019", "--orders", "900", "--facts",
         "--output", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


def hotline(store: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["--db", store, *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_overdue_and_the_scheduler_s_pass_are_the_same_in_batches(
    store: str,
    other_store: str,
    year_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pass records flags: each size gets a store of its own, with the same year.
    found: dict[int, tuple[str, ...]] = {}
    for size, db in ((WHOLE, store), (SMALL, other_store)):
        monkeypatch.setattr(readmodel_module, "BATCH", size)
        hotline(db, capsys, "import", str(year_file))
        overdue = hotline(db, capsys, "orders", "overdue", "--format", "csv")
        tick = ("scheduler", "tick", "--as-of", "2019-10-31 18:00", "--window", "2")
        first, again = hotline(db, capsys, *tick), hotline(db, capsys, *tick)
        flagged = hotline(db, capsys, "orders", "overdue", "--format", "csv")
        mine = hotline(db, capsys, "orders", "overdue", "--unit", MINHANG, "--format", "csv")
        found[size] = (overdue, first, again, flagged, mine)
    assert found[SMALL] == found[WHOLE]
    overdue, first, again, flagged, mine = found[WHOLE]
    assert len(overdue.splitlines()) > 3 * SMALL  # open orders over many batches
    assert first != again  # the first pass flagged orders; the second found them flagged
    assert flagged != overdue and mine != flagged


def test_the_orders_export_is_the_same_in_batches(
    store: str,
    year_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hotline(store, capsys, "import", str(year_file))
    exports = [("--period", "2019-03"), ("--period", "2019", "--status", "open"),
               ("--period", "2019Q1", "--unit", MINHANG)]  # fmt: skip
    found: dict[int, list[list[bytes]]] = {}
    for size in (WHOLE, SMALL):
        monkeypatch.setattr(readmodel_module, "BATCH", size)
        found[size] = []
        for n, export in enumerate(exports):
            output = tmp_path / f"orders-{size}-{n}.csv"
            hotline(store, capsys, "export", "orders", *export, "--output", str(output))
            lines = output.read_bytes().splitlines()
            found[size].append(lines[:1] + lines[2:])  # the second line says when it was made
    assert found[SMALL] == found[WHOLE]
    assert all(len(lines) > 2 + SMALL for lines in found[WHOLE])


@pytest.mark.parametrize(
    "explained",
    [
        ("--rubric", "shanghai-12345-2019", "--period", "2019"),
        ("--rubric", "market-office-2017", "--period", "2019", "--channel", "12345"),
        ("--rubric", "market-office-2017", "--period", "2019Q2"),
    ],
)
def test_what_cost_a_unit_its_points_is_the_same_in_batches(
    explained: tuple[str, ...],
    store: str,
    year_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hotline(store, capsys, "import", str(year_file))
    command = ("report", "explain", "--unit", PUDONG, *explained, "--format", "json")
    found = {}
    for size in (WHOLE, SMALL):
        monkeypatch.setattr(readmodel_module, "BATCH", size)
        found[size] = hotline(store, capsys, *command)
    assert found[SMALL] == found[WHOLE]
    assert found[WHOLE].count('"source": "2019-') > 1  # orders cost points
