#!/usr/bin/env python3
"""Benchmark many operators logging at once on overlapping orders, and print the figures.

`--writers` processes (each its own application, as separate `hotline` commands would be)
log `supervised` on orders picked at random among `--orders` shared ones, as fast as they
can, for `--seconds`. Printed: the commands done per second, the conflicts retried on a
fresh load, and the commands given up as ConcurrentChange after every attempt conflicted.
Fewer shared orders means more contention.

Usage: scripts/writers.py [--writers 8] [--orders 4] [--seconds 5] [--store PATH]
(default store: a fresh SQLite file in a temporary folder)
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import tempfile
import time
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from hotline.service.application import ConcurrentChange, HotlineApplication
from hotline.service.database import prepare

RECEIVED_AT = datetime(2026, 3, 2, 9, 0)
SUPERVISED_AT = datetime(2026, 3, 3, 10, 0)


class Tally(logging.Handler):
    """Counts the application's "conflict, retrying" debug records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retried = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.retried += 1


def write(
    store: str,
    orders: int,
    seconds: float,
    start: Barrier,
    results: Queue[tuple[int, int, int]],
) -> None:
    """Supervise random shared orders for `seconds`; report (done, retried, given up)."""
    app = HotlineApplication(db=store)
    tally = Tally()
    logger = logging.getLogger("hotline.service.application")
    logger.addHandler(tally)
    logger.setLevel(logging.DEBUG)
    done = given_up = 0
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            app.record(f"B-{random.randrange(orders)}", "supervised", at=SUPERVISED_AT)
        except ConcurrentChange:
            given_up += 1
        else:
            done += 1
    results.put((done, tally.retried, given_up))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--orders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--store", help="a store location (default: a fresh temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or str(Path(folder) / "hotline.db")
        prepare(store)  # `hotline db init`: a PostgreSQL store's tables, as their owner
        app = HotlineApplication(db=store)
        for number in range(args.orders):
            app.receive(
                f"B-{number}", unit="闵行区市场监管局", kind="complaint", channel="12345",
                at=RECEIVED_AT,
            )  # fmt: skip
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(args.writers + 1)
        results: Queue[tuple[int, int, int]] = context.Queue()
        processes = [
            context.Process(target=write, args=(store, args.orders, args.seconds, start, results))
            for _ in range(args.writers)
        ]
        for process in processes:
            process.start()
        start.wait()
        began = time.perf_counter()
        reported = [results.get() for _ in processes]
        elapsed = time.perf_counter() - began
        for process in processes:
            process.join()
    done, retried, given_up = (sum(column) for column in zip(*reported, strict=True))
    print(f"{args.writers} writers on {args.orders} shared orders for {elapsed:.1f} s")
    print(f"  commands done      {done:8d}  ({done / elapsed:.0f}/s)")
    per_command = retried / max(done + given_up, 1)
    print(f"  conflicts retried  {retried:8d}  ({per_command:.2f} per command)")
    print(f"  given up           {given_up:8d}  (ConcurrentChange after every attempt)")


if __name__ == "__main__":
    main()
