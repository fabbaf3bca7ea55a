"""A year generated with `--calibrate seed000`, imported and scored through the CLI, prints
seed 000's annexes (tests/data/seed000-annex1–3.csv) and grades: every cell the size allows,
and the cells it does not are the ones the generator lists on stderr.

HOTLINE_CALIBRATED_ORDERS=240409 runs the same check at review-2019's size, where no cell
may differ (about 10 minutes on a loaded machine; the suite runs it at the demo's 30,000).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from test_seed000_tables import GRADES, TABLES, table

Cli = Callable[..., tuple[int, str, str]]
GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
ORDERS = int(os.environ.get("HOTLINE_CALIBRATED_ORDERS", "30000"))
FULL = 240_409
DIFFERS = re.compile(r"differs from seed000: (\S+) (受理数量|满意度|总分值):")


def generate(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, check=False, timeout=1800
    )


def test_the_uncalibrated_year_is_byte_for_byte_as_before() -> None:
    """Benchmarks compare years across commits: --calibrate must leave the others alone."""
    done = generate("--orders", "400", "--seed", "3")
    assert done.returncode == 0, done.stderr
    digest = hashlib.sha256(done.stdout).hexdigest()
    assert digest == "260931c8ba1132d9271d281ab13e5ef90b5fd2ada575170022f579de94e4cce1"


def test_an_unknown_calibration_is_refused_in_one_line() -> None:
    done = generate("--calibrate", "seed999", "--orders", "100")
    assert done.returncode == 2
    assert "no calibration 'seed999' (known: seed000)" in done.stderr.decode()
    assert not done.stdout


def value(cell: Any) -> Decimal | None:
    """A JSON number or a printed cell ("—" or blank: none) as a number, so that 87.0 and
    the annex's 87.00 agree."""
    if cell is None or cell in ("", "—"):
        return None
    return Decimal(str(cell))


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[tuple[str, str]]]:
    path = tmp_path_factory.mktemp("calibrated") / "year-2019.jsonl"
    done = generate("--calibrate", "seed000", "--orders", str(ORDERS), "--output", str(path))
    assert done.returncode == 0, done.stderr
    differing = {m.groups() for m in DIFFERS.finditer(done.stderr.decode())}
    return path, {(unit, column) for unit, column in differing}


def test_the_calibrated_year_prints_seed_000s_annexes(
    cli: Cli, calibrated: tuple[Path, set[tuple[str, str]]]
) -> None:
    path, differing = calibrated
    code, _, err = cli("import", str(path))
    assert code == 0, err
    code, out, err = cli(
        "report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2019",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    if ORDERS == FULL:
        assert not differing
    else:  # a group of V orders resolves 受理数量 only to 10/V: not all of them at 30,000
        assert 0 < len(differing) < 66
    groups = {g["key"]: g for g in report["groups"]}
    for key in TABLES:
        rows = {row["unit"]: row for row in groups[key]["rows"]}
        for official in table(key):
            row = rows[official.unit]
            points = row["components"]
            unit = official.unit
            assert value(points["on_time"]) == value(official.on_time), unit
            assert value(points["resolution"]) == value(official.resolution), unit
            if (unit, "受理数量") not in differing:
                assert value(points["volume"]) == value(official.volume), unit
            if (unit, "满意度") not in differing:
                assert value(points["satisfaction"]) == value(official.satisfaction), unit
            total, printed = value(row["total"]), value(official.total)
            if (unit, "满意度") in differing:  # the nearest points a handful of ratings give
                assert total is not None, unit
            elif (unit, "总分值") in differing:  # the volume points' shift, at most
                assert total is not None and printed is not None, unit
                assert abs(total - printed) <= Decimal("0.01"), unit
            else:
                assert total == printed, unit
    grades = groups["district"]["grades"]
    totals_differ = {unit for unit, column in differing if column != "受理数量"}
    if not totals_differ & set("、".join(GRADES.values()).split("、")):
        assert grades == {grade: units.split("、") for grade, units in GRADES.items()}


def test_the_calibrated_year_has_review_2019s_volume(
    cli: Cli, calibrated: tuple[Path, set[tuple[str, str]]]
) -> None:
    """--orders is the volume the rubric counts (12345 orders 不含退单): summed over the
    units it is exactly --orders, all of it the annexes' units'."""
    path, _ = calibrated
    code, _, err = cli("import", str(path))
    assert code == 0, err
    code, out, err = cli("report", "rates", "--period", "2019", "--format", "json")
    assert code == 0, err
    units = [row for row in json.loads(out)["rows"] if row["level"] == "unit"]
    assert sum(row["volume"] for row in units) == ORDERS
    published = {row.unit for key in TABLES for row in table(key)}
    assert {row["name"] for row in units if row["volume"]} <= published
