"""Many aggregates' stored events in one query: what an import compares a batch of export
rows with (one read per batch instead of one per order)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

CHUNK = 5_000
"""Ids asked for in one statement (SQLite takes at most 32,766 parameters)."""


def select_many(recorder: AggregateRecorder, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
    """The stored events of each of `ids` that has any, in version order."""
    wanted = list(dict.fromkeys(ids))
    found: dict[UUID, list[StoredEvent]] = {}
    table = recorder.events_table_name  # type: ignore[attr-defined]
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    postgres = hasattr(datastore, "schema")
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        if postgres:
            from psycopg.sql import SQL, Identifier

            statement: Any = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}.{} "
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            ).format(Identifier(datastore.schema), Identifier(table))
            with datastore.get_connection() as connection, connection.cursor() as cursor:
                cursor.execute(statement, [chunk])
                rows = cursor.fetchall()
        else:  # SQLite keeps the id as 32 hex digits
            marks = ",".join("?" * len(chunk))
            statement = (
                f"SELECT originator_id, originator_version, topic, state FROM {table} "
                f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version"
            )
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [i.hex for i in chunk])
                rows = cursor.fetchall()
        for row in rows:
            key = row["originator_id"]
            key = key if isinstance(key, UUID) else UUID(key)
            found.setdefault(key, []).append(
                StoredEvent(key, row["originator_version"], row["topic"], bytes(row["state"]))
            )
    return found
