"""Rewriting stored events' states in place: for a key rotation only (the state's plaintext
stays the same; only its encryption changes). Nothing else in hotline updates an event."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder

Rewrite = tuple[UUID | str, int, bytes]
"""An event's (aggregate id, version) and its new state."""


def rewrite_states(recorder: AggregateRecorder, rewrites: Sequence[Rewrite]) -> None:
    """Give each event of `rewrites` its new state, all in one transaction."""
    if not rewrites:
        return
    table = recorder.events_table_name  # type: ignore[attr-defined]
    datastore = recorder.datastore  # type: ignore[attr-defined]
    statement: object
    if hasattr(datastore, "schema"):  # PostgreSQL
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "UPDATE {}.{} SET state = %s WHERE originator_id = %s AND originator_version = %s"
        ).format(Identifier(datastore.schema), Identifier(table))
        rows: list[tuple[bytes, object, int]] = [(s, i, v) for i, v, s in rewrites]
    else:  # SQLite keeps the id as 32 hex digits
        statement = (
            f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?"
        )
        rows = [(s, i.hex if isinstance(i, UUID) else i, v) for i, v, s in rewrites]
    with datastore.transaction(commit=True) as cursor:
        cursor.executemany(statement, rows)


def compact(env: dict[str, str]) -> None:
    """After the states are rewritten: on SQLite, rewrite the file without its free pages and
    empty its WAL, so that no copy of an old state is left in either. (PostgreSQL keeps the
    old row versions until `VACUUM FULL` by the table's owner: docs/encryption.md.)"""
    if "SQLITE_DBNAME" not in env:
        return
    connection = sqlite3.connect(env["SQLITE_DBNAME"], timeout=30, isolation_level=None)
    try:
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
