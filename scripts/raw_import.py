#!/usr/bin/env python3
"""The raw limit of an import: parse JSON Lines and `executemany` them into the same database.

What `hotline import` does, less everything that makes it hotline's: each line is parsed
(`json.loads`), its order number, event and time taken out, and the event inserted with the
rest of the line as JSON text into `raw_events`, keyed like the event store's own table by
(order, event's sequence number within its order). Lines go in batches of 5,000, one
transaction each, as `hotline import` does; no validation, no order rules, no read model.

Usage: scripts/raw_import.py --db STORE FILE
(STORE as for `hotline --db`: a SQLite path or a postgresql:// URL; the table is made afresh
and dropped at the end). Prints one line: lines, seconds, lines per second.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from hotline.adapters.eventstore import postgres_connection, store_environment
from hotline.adapters.settings import read_settings

BATCH_LINES = 5_000
TABLE = """CREATE TABLE raw_events (
    number TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (number, seq))"""


def rows(path: Path) -> Iterator[tuple[str, int, str, str, str]]:
    """One row per line: order number, its sequence number, event, time, the rest as JSON."""
    seen: Counter[str] = Counter()
    with path.open("rb") as lines:
        for line in lines:
            fields = json.loads(line)
            number = fields.pop("order")
            seen[number] += 1
            yield number, seen[number], fields.pop("event"), fields.pop("at"), json.dumps(fields)


def load(connection: Any, placeholder: str, path: Path) -> int:
    """Insert every line of `path` in batches, one transaction each; the number of lines."""
    insert = f"INSERT INTO raw_events VALUES ({', '.join([placeholder] * 5)})"
    count = 0
    source = rows(path)
    while batch := list(islice(source, BATCH_LINES)):
        cursor = connection.cursor()
        cursor.executemany(insert, batch)
        cursor.close()
        connection.commit()
        count += len(batch)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("file", type=Path)
    options = parser.parse_args()
    env = store_environment(read_settings().given(db=options.db))
    connection: Any
    if "SQLITE_DBNAME" in env:
        connection = sqlite3.connect(env["SQLITE_DBNAME"])
        connection.execute("PRAGMA journal_mode=WAL")
        placeholder = "?"
    else:
        connection = postgres_connection(env)
        connection.autocommit = False
        placeholder = "%s"
    connection.execute("DROP TABLE IF EXISTS raw_events")
    connection.execute(TABLE)
    connection.commit()
    started = time.perf_counter()
    count = load(connection, placeholder, options.file)
    seconds = time.perf_counter() - started
    connection.execute("DROP TABLE raw_events")  # the store is left as it was found
    connection.commit()
    connection.close()
    print(f"{count} lines in {seconds:.2f} s: {count / seconds:.0f} lines/s")


if __name__ == "__main__":
    main()
