#!/usr/bin/env python3
"""Benchmark hotline on a generated assessment year, on SQLite and PostgreSQL side by side.

The year is generated once (scripts/generate_year.py, JSON Lines). Then, on each backend,
each phase runs as its own process on a fresh store, timed by the wall clock, with that
process's peak memory (max RSS):

1. the raw limit of an import: scripts/raw_import.py parses the same lines and inserts them
   with the driver's `executemany` into the same database;
2. `hotline import` of the file: events per second, and its ratio to the raw limit;
3. `hotline import` of the same file again: idempotent, nothing written (`--skip again`);
4. `hotline projections rebuild`: events per second of its one pass (check and projection);
5. `hotline report rates --period YEAR` for all units, best of 3, and the same aggregation
   written by hand as one SQL query over the read model (scripts/hand_rates.py), best of 3;
   the ratio compares the report less the command's start-up (`hotline --help`) with the
   query;
6. `report scores --rubric shanghai-12345-2019` (附件1–3) and `report deductions --rubric
   market-office-2017` for all units (`--skip scores`);
7. `hotline scheduler tick` on the morning of the year's last working day, twice: the first
   pass flags every limit of the orders still open, the second finds them all flagged
   (`--skip tick`);
8. with `--years N` (N ≥ 2), the history: the N consecutive generated years up to YEAR
   (`--close-stragglers`: each year's orders closed after it too, as in a store kept from
   year to year) imported into one store, and YEAR alone into another; `report rates
   --period YEAR` on each, 3 runs alternating, the ratio of their medians in time and in
   peak memory.

Start-up and the scheduler's backlog are measured on stores of their own (`--skip
startup,backlog`):

- start-up: `hotline --help`, `order show` and `order first-contact` on a store of one order,
  best of 5 each (goal ≤ 0.3 s);
- the first pass over a backlog: `--backlog N` 12345 complaints received in November and
  never touched, so that a pass on the year's last working day flags both limits of each
  (2N flags; the city's backlog was 42,170: goal ≤ 10 s).

PostgreSQL: `--postgres URL` names a server by one of its databases (a fresh database
`hotline_bench` is made in it); without it, scripts/postgres starts one in WORKDIR/pg with
PostgreSQL's own durability settings (fsync on). Two tables end the output: every phase on
both backends, then every target of issue 19 with its figure, met or not (`Target`).

Usage: scripts/benchmark.py [--orders 240409] [--year 2019] [--years N]
                            [--backends sqlite,postgresql] [--postgres URL]
                            [--skip year,again,scores,tick,startup,backlog]
                            [--backlog 21085] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.engine import make_url

from hotline.adapters.eventstore import postgres_connection, store_environment
from hotline.adapters.official_calendar import official_schedules
from hotline.adapters.settings import read_settings
from hotline.domain.calendar import WorkingCalendar
from hotline.service.database import prepare

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = ROOT / ".venv" / "bin" / "hotline"
PYTHON = ROOT / ".venv" / "bin" / "python"
BACKENDS = ("sqlite", "postgresql")
SKIPPABLE = ("year", "again", "scores", "tick", "startup", "backlog")
BENCH_STORE = "bench"
BACKLOG = 21_085
"""Orders of the backlog phase: two limits each, 42,170 flags as in the city's first pass."""


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run `args` to the end: (seconds, the process's peak RSS in MB, its stdout)."""
    done = timed(args, env)
    return done.seconds, done.peak, done.out


@dataclass(frozen=True)
class Timed:
    """A process run to the end: wall-clock and CPU (user + system) seconds, peak RSS in MB,
    and its stdout. On a machine others load, the CPU seconds are the steadier figure."""

    seconds: float
    cpu: float
    peak: float
    out: str


def timed(args: list[str], env: dict[str, str] | None = None) -> Timed:
    """Run `args` to the end (the benchmark stops if it fails)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            sys.exit(f"benchmark: {' '.join(args[:5])} … failed: {message}")
        out.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Timed(seconds, cpu, usage.ru_maxrss / 1024, out.read().decode())


def last_working_day(year: int) -> date:
    """The last working day of calendar year `year` (a pass on a day off does nothing)."""
    calendar = WorkingCalendar(official_schedules())
    day = date(year, 12, 31)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def best_of(times: int, args: list[str]) -> float:
    return min(run(args)[0] for _ in range(times))


@dataclass(frozen=True)
class Target:
    """One line of issue 19's table: a figure against its goal, at most or at least."""

    what: str
    figure: float
    goal: float
    unit: str = ""
    at_most: bool = True

    def met(self) -> bool:
        return self.figure <= self.goal if self.at_most else self.figure >= self.goal

    def goal_text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.goal:,g}{self.unit}"

    def cell(self) -> str:
        shown = f"{self.figure:,.2f}" if abs(self.figure) < 10 else f"{self.figure:,.0f}"
        return f"{shown}{self.unit} {'✓' if self.met() else '✗'}"


@dataclass
class Figures:
    """What one backend measured, for the summaries."""

    backend: str
    rows: dict[str, str] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def add(self, phase: str, figure: str) -> None:
        self.rows[phase] = figure
        print(f"  {phase + ':':30} {figure}", flush=True)

    def target(self, target: Target) -> None:
        self.targets.append(target)
        print(f"  {'target: ' + target.what:30} {target.cell()} ({target.goal_text()})", flush=True)


def generated(workdir: Path, year: int, orders: int, *options: str) -> Path:
    """The JSON Lines of assessment year `year` in `workdir` (generated with `options`), made
    the first time."""
    events_file = workdir / f"year{year}-{orders}{''.join(options)}.jsonl"
    if not events_file.exists():
        seconds, _, _ = run(
            [str(PYTHON), str(ROOT / "scripts" / "generate_year.py"), "--year", str(year),
             "--orders", str(orders), "--output", str(events_file), *options]
        )  # fmt: skip
        print(f"generated {year} in {seconds:.1f} s")
    return events_file


Store = Callable[[str], tuple[str, str]]
"""Makes a fresh store of a name on one backend: (its --db, a description)."""


def sqlite_store(workdir: Path, name: str = BENCH_STORE) -> tuple[str, str]:
    """A fresh SQLite store in `workdir`: (its --db, a description)."""
    db = workdir / f"{name}.db"
    for leftover in workdir.glob(f"{name}.db*"):
        leftover.unlink()
    return str(db), "SQLite"


def postgres_server(workdir: Path) -> str:
    """A durable PostgreSQL server started in WORKDIR/pg: its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = os.environ | {"PGPORT": str(port), "PG_DURABLE": "1"}
    return run([str(ROOT / "scripts" / "postgres"), str(workdir / "pg")], environment)[2].strip()


def postgres_store(server: str, name: str) -> tuple[str, str]:
    """A fresh database `hotline_NAME` on `server`."""
    database = f"hotline_{name}"
    with postgres_connection(store_environment(read_settings().given(db=server))) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database}")
        connection.execute(f"CREATE DATABASE {database}")
        version = connection.execute("SHOW server_version").fetchone()
        fsync = connection.execute("SHOW fsync").fetchone()
    store = make_url(server).set(drivername="postgresql", database=database)
    name = f"PostgreSQL {version[0] if version else '?'} (fsync {fsync[0] if fsync else '?'})"
    url = store.render_as_string(hide_password=False)
    prepare(url)  # `hotline db init`, as the server URL's role (the tables' owner)
    return url, name


def store_size(store: str) -> float:
    """The store's size in MB: the SQLite file with its WAL, or the PostgreSQL database."""
    if "://" not in store:
        return sum(p.stat().st_size for p in Path(store).parent.glob(f"{BENCH_STORE}.db*")) / 1e6
    with postgres_connection(store_environment(read_settings().given(db=store))) as connection:
        found = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(found[0] if found else 0) / 1e6


def bench(store: str, backend: str, events_file: Path, events: int, year: int,
          skip: set[str]) -> Figures:  # fmt: skip
    """Every phase on one fresh store."""
    figures = Figures(backend)
    print(f"{backend}: {store.split('@')[-1]}", flush=True)
    seconds, peak, _ = run(
        [str(PYTHON), str(ROOT / "scripts" / "raw_import.py"), "--db", store, str(events_file)]
    )
    raw_rate = events / seconds
    figures.add("raw parse + executemany", f"{seconds:7.1f} s  {raw_rate:9,.0f} events/s")
    hotline = [str(HOTLINE), "--db", store]
    seconds, peak, _ = run([*hotline, "import", str(events_file)])
    rate = events / seconds
    figures.add("import", f"{seconds:7.1f} s  {rate:9,.0f} events/s  peak {peak:5.0f} MB")
    figures.add("import ÷ raw", f"{rate / raw_rate:.2f} (goal ≥ 0.5)")
    figures.target(Target("`import` ÷ raw parse+insert", rate / raw_rate, 0.5, at_most=False))
    figures.target(Target("peak memory of `import`", peak, 500, " MB"))
    if "again" not in skip:
        seconds, peak, _ = run([*hotline, "import", str(events_file)])
        lines = f"{events / seconds:9,.0f} lines/s "
        figures.add("import again (nothing new)", f"{seconds:7.1f} s  {lines}  peak {peak:5.0f} MB")
        figures.target(Target("re-import of an unchanged file", events / seconds, 50_000,
                              " lines/s", at_most=False))  # fmt: skip
    seconds, peak, _ = run([*hotline, "projections", "rebuild"])
    speed = f"{events / seconds:9,.0f} events/s"
    figures.add("projection rebuild", f"{seconds:7.1f} s  {speed}  peak {peak:5.0f} MB")
    rebuild_goal = 50_000 if backend == "SQLite" else 25_000
    figures.target(Target("`projections rebuild`", events / seconds, rebuild_goal, " events/s",
                          at_most=False))  # fmt: skip
    figures.target(Target("peak memory of `projections rebuild`", peak, 500, " MB"))
    startup = best_of(3, [*hotline, "--help"])
    report = [*hotline, "report", "rates", "--period", str(year), "--format", "json"]
    _, peak, _ = run(report)
    rates = best_of(3, report)
    figures.add(f"report rates {year}", f"{rates:7.2f} s  (start-up {startup:.2f} s)  "
                f"peak {peak:5.0f} MB")  # fmt: skip
    if backend == "SQLite":
        figures.target(Target("`report rates` annual, 66 units, whole command", rates, 1.0, " s"))
    figures.target(Target("peak memory of `report rates`", peak, 500, " MB"))
    figures.target(Target("start-up of `hotline --help`", startup, 0.3, " s"))
    _, _, printed = run(
        [str(PYTHON), str(ROOT / "scripts" / "hand_rates.py"), "--db", store,
         "--period-start", f"{year - 1}-11-01", "--period-end", f"{year}-10-31", "--repeat", "3"]
    )  # fmt: skip
    found = re.search(r"([0-9.]+) s", printed)
    if found is None:
        sys.exit(f"benchmark: scripts/hand_rates.py printed no time: {printed.strip()}")
    hand = float(found[1])
    figures.add("hand-written SQL, same rates", f"{hand:7.2f} s  (the query and its fetch)")
    figures.add("report ÷ hand SQL", f"{(rates - startup) / hand:.2f} less start-up, "
                f"{rates / hand:.2f} with it (goal ≤ 1.5)")  # fmt: skip
    if "scores" not in skip:
        for name, command in (
            ("report scores", ["scores", "--rubric", "shanghai-12345-2019"]),
            ("report deductions", ["deductions", "--rubric", "market-office-2017"]),
        ):
            seconds = best_of(3, [*hotline, "report", *command, "--period", str(year),
                                  "--format", "json"])  # fmt: skip
            figures.add(f"{name} {year}", f"{seconds:7.2f} s  (best of 3)")
    if "tick" not in skip:
        year_end = f"{last_working_day(year)} 08:00"
        passes = []
        for label in ("scheduler tick at year end", "the same tick again"):
            seconds, peak, _ = run([*hotline, "scheduler", "tick", "--as-of", year_end])
            figures.add(label, f"{seconds:7.2f} s  peak {peak:5.0f} MB")
            passes.append((seconds, peak))
        flags = run([*hotline, "alerts", "--format", "jsonl"])[2].count("\n")
        figures.add("limits flagged", f"{flags:,} (every limit of the orders still open)")
        figures.target(Target(f"first scheduler pass ({flags:,} limits)", passes[0][0], 10, " s"))
        figures.target(Target("peak memory of `scheduler tick`", passes[0][1], 500, " MB"))
    figures.add("store size", f"{store_size(store):7.0f} MB")
    return figures


RUNS = 3
"""Runs of each report in the history phase, alternating between the two stores."""


def history(figures: Figures, new_store: Store, workdir: Path, year: int, years: int,
            orders: int) -> None:  # fmt: skip
    """The latest year's report on a store of `years` years against a store of it alone."""
    # Each year's orders closed after its end too, as in a store kept from year to year: the
    # generator's default leaves the last weeks' orders open for ever.
    files = [generated(workdir, y, orders, "--close-stragglers")
             for y in range(year - years + 1, year + 1)]  # fmt: skip
    many, _ = new_store(f"years{years}")
    one, _ = new_store("year1")
    started = time.perf_counter()
    for events_file in files:
        run([str(HOTLINE), "--db", many, "import", str(events_file)])
    run([str(HOTLINE), "--db", one, "import", str(files[-1])])
    figures.add(f"import of {years} years + 1", f"{time.perf_counter() - started:7.1f} s")
    measured: dict[str, list[tuple[float, float]]] = {many: [], one: []}
    for _ in range(RUNS):
        for store in measured:
            report = ["report", "rates", "--period", str(year), "--format", "json"]
            measured[store].append(run([str(HOTLINE), "--db", store, *report])[:2])
    seconds = {store: statistics.median(s for s, _ in runs) for store, runs in measured.items()}
    peaks = {store: statistics.median(p for _, p in runs) for store, runs in measured.items()}
    for store, label in ((many, f"{years}-year store"), (one, "1-year store")):
        figure = f"{seconds[store]:7.2f} s  peak {peaks[store]:5.0f} MB (median of {RUNS})"
        figures.add(f"report rates {year}, {label}", figure)
    what = f"latest year's `report rates`, {years}-year store ÷ 1-year store"
    figures.target(Target(f"{what}, time", seconds[many] / seconds[one], 1.1))
    figures.target(Target(f"{what}, peak memory", peaks[many] / peaks[one], 1.1))


def startup(store: str, figures: Figures, workdir: Path, options: argparse.Namespace) -> None:
    """Start-up: `hotline --help`, and showing and updating an order of a store of one."""
    hotline = [str(HOTLINE), "--db", store]
    numbers = [f"S-{i}" for i in range(1, 6)]
    for number in numbers:
        run([*hotline, "order", "receive", number, "--unit", "闵行区市场监管局", "--kind",
             "complaint", "--channel", "12345", "--at", f"{options.year}-11-04 09:00"])  # fmt: skip
    contact = [*hotline, "order", "first-contact"]
    at = ["--at", f"{options.year}-11-04 10:00"]
    for label, commands in (
        ("hotline --help", [[str(HOTLINE), "--help"]] * 5),
        ("order show", [[*hotline, "order", "show", "S-1"]] * 5),
        ("order first-contact", [[*contact, number, *at] for number in numbers]),
    ):
        runs = [timed(args) for args in commands]
        wall, cpu = min(r.seconds for r in runs), min(r.cpu for r in runs)
        best = f"{wall:7.2f} s  CPU {cpu:.2f} s  (best of 5; goal ≤ 0.3 s)"
        figures.add(f"start-up: {label}", best)


def backlog_pass(store: str, figures: Figures, workdir: Path, options: argparse.Namespace) -> None:
    """The first scheduler pass over a backlog: `--backlog` 12345 complaints received in the
    year's November, untouched, flagged on the year's last working day (both limits each)."""
    lines = workdir / f"backlog{options.year}-{options.backlog}.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        for i in range(options.backlog):
            received = datetime(options.year, 11, 1 + i % 14, 9, 0) + timedelta(seconds=i)
            event = {"order": f"B-{i + 1:06d}", "event": "received",
                     "at": f"{received:%Y-%m-%dT%H:%M:%S}+08:00", "unit": "闵行区市场监管局",
                     "kind": "complaint", "channel": "12345"}  # fmt: skip
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
    hotline = [str(HOTLINE), "--db", store]
    run([*hotline, "import", str(lines)])
    tick = [*hotline, "scheduler", "tick", "--as-of", f"{last_working_day(options.year)} 08:00"]
    first = timed(tick)
    flags = run([*hotline, "alerts", "--format", "jsonl"])[2].count("\n")
    figures.add("backlog: first pass", f"{first.seconds:7.2f} s  CPU {first.cpu:.2f} s  "
                f"{flags:,} limits flagged  peak {first.peak:5.0f} MB (goal ≤ 10 s)")  # fmt: skip
    again = timed(tick)
    figures.add("backlog: the same pass again", f"{again.seconds:7.2f} s  CPU {again.cpu:.2f} s")


def rebuild_parts(store: str, figures: Figures, events: int) -> None:
    """`projections rebuild` checks and projects in one pass (docs/projections.md): its CPU
    seconds and events per second beside `verify`'s, which also validates each event (goal:
    the rebuild ≥ 50,000 events/s on SQLite, 25,000 on PostgreSQL)."""
    hotline = [str(HOTLINE), "--db", store]
    rebuild, verify = timed([*hotline, "projections", "rebuild"]), timed([*hotline, "verify"])
    for label, cpu in {"rebuild (one pass)": rebuild.cpu, "verify": verify.cpu}.items():
        figures.add(f"CPU: {label}", f"{cpu:7.1f} s  {events / cpu:9,.0f} events/s")


def summary(results: list[Figures]) -> None:
    """Both backends side by side, as Markdown tables: the phases, then the targets."""
    phases = list(dict.fromkeys(phase for figures in results for phase in figures.rows))
    print()
    print("| phase | " + " | ".join(f.backend for f in results) + " |")
    print("|---|" + "---|" * len(results))
    for phase in phases:
        cells = (" ".join(f.rows.get(phase, "—").split()) for f in results)
        print(f"| {phase} | " + " | ".join(cells) + " |")
    goals: dict[str, dict[str, list[str]]] = {}  # what: goal: the backends it is theirs
    for figures in results:
        for t in figures.targets:
            goals.setdefault(t.what, {}).setdefault(t.goal_text(), []).append(figures.backend)
    found = {(f.backend, t.what): t.cell() for f in results for t in f.targets}
    print()
    print("| what | target | " + " | ".join(f.backend for f in results) + " |")
    print("|---|---|" + "---|" * len(results))
    for what, theirs in goals.items():
        goal = (
            next(iter(theirs))
            if len(theirs) == 1
            else " / ".join(f"{goal} ({', '.join(backends)})" for goal, backends in theirs.items())
        )
        cells = (found.get((f.backend, what), "—") for f in results)
        print(f"| {what} | {goal} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=240_409)
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--years", type=int, default=0, help="history phase: N years (N ≥ 2)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--postgres", help="a PostgreSQL server's URL (default: start one)")
    parser.add_argument("--skip", default="", help=f"phases to leave out: {','.join(SKIPPABLE)}")
    parser.add_argument("--backlog", type=int, default=BACKLOG, help="orders of the backlog")
    parser.add_argument("--workdir", type=Path, default=None)
    options = parser.parse_args()
    backends = [b for b in options.backends.split(",") if b]
    skip = {s for s in options.skip.split(",") if s}
    if unknown := [b for b in backends if b not in BACKENDS] + sorted(skip - set(SKIPPABLE)):
        parser.error(f"unknown backend or phase: {', '.join(unknown)}")
    if options.years == 1 or options.years < 0:
        parser.error("--years takes 2 or more (0: no history phase)")
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    events_file = workdir / f"year{options.year}-{options.orders}.jsonl"
    events = 0
    if "year" not in skip:
        events_file = generated(workdir, options.year, options.orders)
        with events_file.open("rb") as lines:
            events = sum(1 for _ in lines)
        size = events_file.stat().st_size / 1e6
        print(f"year {options.year}: {options.orders:,} orders received, {events:,} events, "
              f"{size:.0f} MB of JSON Lines ({events_file})")  # fmt: skip

    results = []
    server = options.postgres
    try:
        for backend in backends:
            if backend == "sqlite":
                new_store: Store = partial(sqlite_store, workdir)
            else:
                server = server or postgres_server(workdir)
                new_store = partial(postgres_store, server)
            store, name = new_store(BENCH_STORE)
            if "year" in skip:
                figures = Figures(name)
                print(f"{name}:", flush=True)
            else:
                figures = bench(store, name, events_file, events, options.year, skip)
                rebuild_parts(store, figures, events)
            # Start-up and the backlog's pass, each on a store of its own.
            for phase, measure in (("startup", startup), ("backlog", backlog_pass)):
                if phase not in skip:
                    measure(new_store(phase)[0], figures, workdir, options)
            if options.years:
                history(figures, new_store, workdir, options.year, options.years, options.orders)
            results.append(figures)
    finally:
        if "postgresql" in backends and options.postgres is None:
            run([str(ROOT / "scripts" / "postgres"), "stop", str(workdir / "pg")])
    summary(results)


if __name__ == "__main__":
    main()
