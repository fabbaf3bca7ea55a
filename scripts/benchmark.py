#!/usr/bin/env python3
"""Benchmark hotline on a generated assessment year and print the figures.

Each phase runs as its own `hotline` process on a fresh SQLite store, timed by
the wall clock, with that process's peak memory (max RSS):

1. generate the year (scripts/generate_year.py), JSON Lines;
2. `hotline import` of the file: events per second;
3. `hotline import` of the same file again: idempotent, nothing written;
4. `hotline projections rebuild`: projection catch-up events per second;
5. `hotline report rates --period YEAR` for all units: seconds (and the
   interpreter's start-up, `hotline --help`, for comparison);
6. `hotline report scores --rubric shanghai-12345-2019 --period YEAR` (附件1–3) and
   `report deductions --rubric market-office-2017` for all units: seconds;
7. `hotline scheduler tick` at the year's last morning, twice: the first pass flags
   every limit of the orders still open, the second finds them all flagged.

Usage: scripts/benchmark.py [--orders 240409] [--year 2019] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = ROOT / ".venv" / "bin" / "hotline"
PYTHON = ROOT / ".venv" / "bin" / "python"


def run(args: list[str]) -> tuple[float, float]:
    """Run `args` to the end; (seconds, the process's peak RSS in MB)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            sys.exit(f"benchmark: {' '.join(args[:4])} … failed: {message}")
    return seconds, usage.ru_maxrss / 1024


def flagged(db: Path) -> list[str]:
    """The alert feed of the store, one JSON line per flag."""
    done = subprocess.run(
        [str(HOTLINE), "--db", str(db), "alerts", "--format", "jsonl"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=240_409)
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--workdir", type=Path, default=None)
    options = parser.parse_args()
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    events_file = workdir / f"year{options.year}.jsonl"
    db = workdir / "bench.db"
    for leftover in workdir.glob("bench.db*"):
        leftover.unlink()

    seconds, _ = run(
        [str(PYTHON), str(ROOT / "scripts" / "generate_year.py"), "--year", str(options.year),
         "--orders", str(options.orders), "--output", str(events_file)]
    )  # fmt: skip
    with events_file.open("rb") as lines:
        events = sum(1 for _ in lines)
    size = events_file.stat().st_size / 1e6
    print(f"year {options.year}: {options.orders:,} orders, {events:,} events, {size:.0f} MB "
          f"of JSON Lines, generated in {seconds:.1f} s")  # fmt: skip

    hotline = [str(HOTLINE), "--db", str(db)]
    seconds, peak = run([*hotline, "import", str(events_file)])
    print(f"import:            {seconds:7.1f} s  {events / seconds:9,.0f} events/s  "
          f"peak {peak:5.0f} MB")  # fmt: skip
    seconds, peak = run([*hotline, "import", str(events_file)])
    print(f"import again:      {seconds:7.1f} s  {events / seconds:9,.0f} lines/s   "
          f"peak {peak:5.0f} MB  (nothing written)")  # fmt: skip
    seconds, peak = run([*hotline, "projections", "rebuild"])
    print(f"projection rebuild:{seconds:7.1f} s  {events / seconds:9,.0f} events/s  "
          f"peak {peak:5.0f} MB")  # fmt: skip
    startup, _ = run([*hotline, "--help"])
    best = min(
        run([*hotline, "report", "rates", "--period", str(options.year), "--format", "json"])[0]
        for _ in range(3)
    )
    print(f"report rates {options.year}, all units: {best:.2f} s "
          f"(of which {startup:.2f} s is the command's start-up; best of 3)")  # fmt: skip
    for name, command in (
        ("report scores", ["scores", "--rubric", "shanghai-12345-2019"]),
        ("report deductions", ["deductions", "--rubric", "market-office-2017"]),
    ):
        best = min(
            run([*hotline, "report", *command, "--period", str(options.year), "--format", "json"])[
                0
            ]
            for _ in range(3)
        )
        print(f"{name} {options.year}, all units: {best:.2f} s (best of 3)")
    year_end = f"{options.year}-12-31 08:00"
    for label in ("scheduler tick", "scheduler tick again"):
        seconds, peak = run([*hotline, "scheduler", "tick", "--as-of", year_end])
        print(f"{label} at {year_end}: {seconds:.2f} s  peak {peak:5.0f} MB")
    print(f"  ({len(flagged(db))} flags: every limit of the orders still open at the year's end)")
    print(f"store: {db} ({db.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
