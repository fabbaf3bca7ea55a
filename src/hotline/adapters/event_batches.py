"""Many aggregates' stored events, or their versions, in one query: what an import compares a
batch of export rows with (one read per batch instead of one per order)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

CHUNK = 5_000
"""Ids asked for in one statement (SQLite takes at most 32,766 parameters)."""


def select_many(recorder: AggregateRecorder, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
    """The stored events of each of `ids` that has any, in version order."""
    found: dict[UUID, list[StoredEvent]] = {}
    columns = "originator_id, originator_version, topic, state"
    for row in _rows(recorder, ids, columns, "ORDER BY originator_id, originator_version"):
        key = _uuid(row["originator_id"])
        found.setdefault(key, []).append(
            StoredEvent(key, row["originator_version"], row["topic"], bytes(row["state"]))
        )
    return found


def latest_versions(recorder: AggregateRecorder, ids: Iterable[UUID]) -> dict[UUID, int]:
    """The version of the newest stored event of each of `ids` that has any (read from the
    primary key's index, no state)."""
    columns = "originator_id, MAX(originator_version) AS originator_version"
    rows = _rows(recorder, ids, columns, "GROUP BY originator_id")
    return {_uuid(row["originator_id"]): row["originator_version"] for row in rows}


def _uuid(key: UUID | str) -> UUID:
    """An id as read: PostgreSQL gives a UUID, SQLite its 32 hex digits."""
    return key if isinstance(key, UUID) else UUID(key)


def _rows(recorder: AggregateRecorder, ids: Iterable[UUID], columns: str, tail: str) -> list[Any]:
    """`SELECT columns` of the event table's rows of `ids`, `tail` after the WHERE."""
    wanted = list(dict.fromkeys(ids))
    rows: list[Any] = []
    table = recorder.events_table_name  # type: ignore[attr-defined]
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    postgres = hasattr(datastore, "schema")
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        if postgres:
            from psycopg.sql import SQL, Identifier

            statement: Any = SQL(
                f"SELECT {columns} FROM {{}}.{{}} WHERE originator_id = ANY(%s) {tail}"
            ).format(Identifier(datastore.schema), Identifier(table))
            with datastore.get_connection() as connection, connection.cursor() as cursor:
                cursor.execute(statement, [chunk])
                rows += cursor.fetchall()
        else:  # SQLite keeps the id as 32 hex digits
            marks = ",".join("?" * len(chunk))
            statement = f"SELECT {columns} FROM {table} WHERE originator_id IN ({marks}) {tail}"
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [i.hex for i in chunk])
                rows += cursor.fetchall()
    return rows


Notified = tuple[int, UUID | str, int, str, bytes]
"""One row of the notification log as the driver gives it: notification id, aggregate id
(PostgreSQL's UUID, SQLite's 32 hex digits), version, topic, state."""


def notifications(recorder: AggregateRecorder, after: int, limit: int) -> list[Notified]:
    """Up to `limit` rows of the notification log after id `after`, in id order, as plain
    tuples: eventsourcing's `select_notifications` makes a `Notification` and a `UUID` of
    each, which cost a rebuild more than the read itself."""
    table = recorder.events_table_name  # type: ignore[attr-defined]
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    columns = "originator_id, originator_version, topic, state"
    if hasattr(datastore, "schema"):  # PostgreSQL
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        statement: Any = SQL(
            f"SELECT notification_id, {columns} FROM {{}}.{{}} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(Identifier(datastore.schema), Identifier(table))
        with (
            datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(statement, (after, limit))
            rows: list[Any] = cursor.fetchall()
    else:
        statement = f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, limit))
            rows = cursor.fetchall()
    if rows and not isinstance(rows[0][4], bytes):  # a driver's memoryview
        rows = [(n, key, version, topic, bytes(state)) for n, key, version, topic, state in rows]
    return rows
