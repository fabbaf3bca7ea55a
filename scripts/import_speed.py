#!/usr/bin/env python3
"""Import speed of an export and its re-import (issue 16: re-importing the unchanged export
takes ≤ 0.2× the first import), on SQLite and PostgreSQL.

A year is generated once (scripts/generate_year.py) as an .xlsx export and as its JSON
Lines. On each backend, each file is imported into a fresh store and then imported again
(nothing new), each `hotline import` its own process timed by the wall clock (start-up
included), with its peak memory and its CPU time (user + system: on a machine others
load, the wall clock swings, the CPU time much less); the ratios are the re-import's over
the first's.

PostgreSQL: `--postgres URL` names a server by one of its databases; a database
`hotline_import_speed_PID` is made in it for each file and dropped at the end (its own
per run, so that two runs on a shared server do not drop each other's).

A JSON Lines file has one event a line, so its events/s are lines/s (issue 19: a re-import
of the unchanged 2019 file, `--orders 240409 --formats jsonl`, ≥ 50,000 lines/s).

Usage: scripts/import_speed.py --postgres URL [--orders 20000] [--backends sqlite,postgresql]
                               [--formats xlsx,jsonl] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmark import BACKENDS, HOTLINE, PYTHON, ROOT, run, sqlite_store
from hotline.adapters.eventstore import postgres_connection, store_environment
from hotline.adapters.settings import read_settings
from hotline.service.database import prepare

DATABASE = f"hotline_import_speed_{os.getpid()}"


def postgres_store(server: str) -> str:
    """A fresh database `DATABASE` on `server`, its tables made by `hotline db init`."""
    with postgres_connection(store_environment(read_settings().given(db=server))) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    url = make_url(server).set(drivername="postgresql", database=DATABASE)
    store = url.render_as_string(hide_password=False)
    prepare(store)
    return store


def drop(server: str) -> None:
    """Drop `DATABASE`, closing any session left in it (`prepare` may keep one open)."""
    with postgres_connection(store_environment(read_settings().given(db=server))) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def written(printed: str) -> int:
    """The events an import says it wrote (or found already present)."""
    found = re.search(r"(\d+) events written, (\d+) already present", printed)
    if found is None:
        raise SystemExit(f"import_speed: no summary in {printed.strip()!r}")
    return int(found[1]) + int(found[2])


def timed(args: list[str]) -> tuple[float, float, float, str]:
    """`run`'s (seconds, peak MB, stdout) and the process's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, peak, printed = run(args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, peak, cpu, printed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--postgres", help="a PostgreSQL server's URL (for postgresql)")
    parser.add_argument("--formats", default="xlsx,jsonl", help="xlsx, jsonl or both")
    parser.add_argument("--workdir", type=Path, default=None)
    options = parser.parse_args()
    backends = [b for b in options.backends.split(",") if b]
    if unknown := [b for b in backends if b not in BACKENDS]:
        parser.error(f"unknown backend: {', '.join(unknown)}")
    if "postgresql" in backends and not options.postgres:
        parser.error("postgresql needs --postgres URL")
    forms = [f for f in options.formats.split(",") if f]
    if unknown := [f for f in forms if f not in ("xlsx", "jsonl")]:
        parser.error(f"unknown format: {', '.join(unknown)}")
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="hotline-import-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    files = [workdir / f"year-{options.orders}.{form}" for form in forms]
    for file in files:
        if not file.exists():
            generator = [str(PYTHON), str(ROOT / "scripts" / "generate_year.py")]
            run([*generator, "--orders", str(options.orders), "--format", file.suffix[1:],
                 "--output", str(file)])  # fmt: skip
    rows = []
    try:
        for backend in backends:
            for file in files:
                if backend == "sqlite":
                    store = sqlite_store(workdir)[0]
                else:
                    store = postgres_store(options.postgres)
                command = [str(HOTLINE), "--db", store, "import", str(file)]
                first, first_peak, first_cpu, printed = timed(command)
                events = written(printed)
                again, again_peak, again_cpu, printed = timed(command)
                if "0 events written" not in printed:
                    raise SystemExit(f"import_speed: the re-import wrote events: {printed}")
                rows.append(
                    f"| {backend} | {file.suffix[1:]} | {events:,} | {first:.1f} s "
                    f"({first_cpu:.1f} s CPU), {events / first:,.0f} events/s, {first_peak:.0f} MB "
                    f"| {again:.1f} s "
                    f"({again_cpu:.1f} s CPU), {events / again:,.0f} events/s, {again_peak:.0f} MB "
                    f"| {again / first:.2f} | {again_cpu / first_cpu:.2f} |"
                )
                print(rows[-1], flush=True)
    finally:
        if "postgresql" in backends:
            drop(options.postgres)
    print()
    print(
        "| backend | file | events | first import | re-import (nothing new) | ratio | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
