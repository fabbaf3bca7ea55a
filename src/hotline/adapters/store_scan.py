"""One consistent read of the stored events and the read model's audit trail, for `verify`.

The events are read straight from eventsourcing's table, each aggregate's in version order
(not in the notification log's order: an edited row keeps its position), and merged with
the read model's `rm_audit` rows of the same aggregate, both streamed in batches, in one
snapshot of the database (a transaction), so that writers at work meanwhile are not seen
as missing events.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, select, text

from hotline.adapters.postgres import RECORDED_BY
from hotline.adapters.readmodel import TRACKING_NAME, audit, orders, tracking

BATCH = 20_000
"""Rows fetched from the database at a time."""


@dataclass(frozen=True)
class StoredRow:
    """One row of the event table, as stored."""

    position: int
    """Its notification id (SQLite's rowid)."""
    version: int
    topic: str
    state: bytes
    role: str | None = None
    """The role the server recorded it under (PostgreSQL, when asked for)."""


@dataclass(frozen=True)
class TrailRow:
    """One row of the read model's audit trail: an event the projection applied."""

    version: int
    event: str
    number: str | None
    """The order's number, if the aggregate is an order the read model knows."""
    link: str | None
    """The event's link as the read model applied it."""


@dataclass(frozen=True)
class Aggregate:
    """An aggregate's stored rows and audit-trail rows, each in version order (either may be
    empty)."""

    id: UUID
    rows: list[StoredRow]
    trail: list[TrailRow]


class Snapshot:
    """The store and its read model as one transaction sees them."""

    def __init__(
        self, connection: Connection, table: str, only: UUID | None, roles: bool = False
    ) -> None:
        self._connection = connection
        self._roles = roles
        self._sqlite = connection.dialect.name == "sqlite"
        self._table = table
        self._only = only
        self._position_column = "rowid" if self._sqlite else "notification_id"
        self.malformed: list[int] = []
        """The positions of rows `aggregates` passed over: on SQLite, whose columns take any
        type, rows whose id is not a UUID as eventsourcing writes it or whose version is
        not an integer."""

    def _where(self) -> tuple[str, dict[str, Any]]:
        if self._only is None:
            return "", {}
        key = self._only.hex if self._sqlite else self._only
        return " WHERE originator_id = :id", {"id": key}

    def count(self) -> int:
        """The number of stored events."""
        where, parameters = self._where()
        found = self._connection.execute(
            text(f"SELECT count(*) FROM {self._table}{where}"), parameters
        ).scalar()
        return int(found or 0)

    def newest(self) -> int:
        """The highest notification id in the store (0: none)."""
        found = self._connection.execute(
            text(f"SELECT max({self._position_column}) FROM {self._table}")
        ).scalar()
        return int(found or 0)

    def projected(self) -> int:
        """The last notification id the read model applied."""
        found = self._connection.scalar(
            select(tracking.c.position).where(tracking.c.name == TRACKING_NAME)
        )
        return int(found or 0)

    def gaps(self) -> list[tuple[int, int]]:
        """The ranges of notification ids missing between the lowest and the highest: on
        SQLite a rowid is never skipped (a rolled-back write gives its rowid to the next), so
        each is a deleted row. Empty on PostgreSQL, whose sequence skips the ids of
        rolled-back writes."""
        if not self._sqlite:
            return []
        rows = self._connection.execute(
            text(
                "SELECT position + 1, following - 1 FROM (SELECT rowid AS position, "
                f"lead(rowid) OVER (ORDER BY rowid) AS following FROM {self._table}) "
                "WHERE following > position + 1"
            )
        )
        first = self._connection.execute(text(f"SELECT min(rowid) FROM {self._table}")).scalar()
        found = [(int(start), int(end)) for start, end in rows]
        if first is not None and int(first) > 1:
            found.insert(0, (1, int(first) - 1))
        return found

    def aggregates(self) -> Iterator[Aggregate]:
        """Every aggregate in the store or in the audit trail, in id order."""
        stored = groupby(self._stored(), key=lambda item: item[0])
        trail = groupby(self._trail(), key=lambda item: item[0])
        next_stored = next(stored, None)
        next_trail = next(trail, None)
        while next_stored is not None or next_trail is not None:
            stored_id = next_stored[0] if next_stored is not None else None
            trail_id = next_trail[0] if next_trail is not None else None
            current = min(i for i in (stored_id, trail_id) if i is not None)
            rows: list[StoredRow] = []
            trail_rows: list[TrailRow] = []
            if next_stored is not None and stored_id == current:
                rows = [row for _, row in next_stored[1]]
                next_stored = next(stored, None)
            if next_trail is not None and trail_id == current:
                trail_rows = [row for _, row in next_trail[1]]
                next_trail = next(trail, None)
            yield Aggregate(current, rows, trail_rows)

    def _stored(self) -> Iterator[tuple[UUID, StoredRow]]:
        """Through the driver's own cursor, `BATCH` rows at a time (on PostgreSQL a server-side
        one): SQLAlchemy's row objects and a `UUID` made for every row cost a third of
        `verify`."""
        where = ""
        if self._only is not None:
            where = " WHERE originator_id = " + ("?" if self._sqlite else "%s")
        cursor = self._connection.connection.cursor(*([] if self._sqlite else ["hotline_verify"]))
        try:
            role = f", {RECORDED_BY}" if self._roles else ", NULL"
            cursor.execute(
                f"SELECT {self._position_column}, originator_id, originator_version, topic, "
                f"state{role} FROM {self._table}{where} "
                "ORDER BY originator_id, originator_version",
                [] if self._only is None else [self._only.hex if self._sqlite else self._only],
            )
            stored_id: object = None
            key: UUID | None = None
            while batch := cursor.fetchmany(BATCH):
                for position, originator_id, version, topic, state, recorded_by in batch:
                    if originator_id != stored_id:  # rows come an aggregate at a time
                        stored_id, key = originator_id, _uuid(originator_id)
                    if key is None or not isinstance(version, int):
                        self.malformed.append(int(position))
                        continue
                    # A state edited by hand may have become text (SQLite's replace() makes it).
                    data = state if type(state) is bytes else _bytes(state)
                    yield key, StoredRow(int(position), version, str(topic), data, recorded_by)
        finally:
            cursor.close()

    def _trail(self) -> Iterator[tuple[UUID, TrailRow]]:
        """Through the driver's own cursor too, as `_stored`: SQLAlchemy's rows cost as much
        again as the read."""
        mark = "?" if self._sqlite else "%s"
        where = "" if self._only is None else f" WHERE a.id = {mark}"
        key = "a.id" if self._sqlite else 'a.id COLLATE "C"'  # as the store's ids sort
        cursor = self._connection.connection.cursor(*([] if self._sqlite else ["hotline_trail"]))
        try:
            cursor.execute(
                f"SELECT a.id, a.version, a.event, o.number, a.link FROM {audit.name} a "
                f"LEFT OUTER JOIN {orders.name} o ON o.id = a.id{where} "
                f"ORDER BY {key}, a.version",
                [] if self._only is None else [str(self._only)],
            )
            trail_id: str | None = None
            current = UUID(int=0)
            while batch := cursor.fetchmany(BATCH):
                for aggregate_id, version, event, number, applied in batch:
                    if aggregate_id != trail_id:  # rows come an aggregate at a time
                        trail_id, current = aggregate_id, UUID(aggregate_id)
                    yield current, TrailRow(int(version), str(event), number, applied)
        finally:
            cursor.close()


def _bytes(state: object) -> bytes:
    """A state as bytes, whatever the driver gave (text, a memoryview, NULL)."""
    return state.encode() if isinstance(state, str) else bytes(state or b"")  # type: ignore[call-overload]


def _uuid(stored: object) -> UUID | None:
    """An aggregate id as stored (PostgreSQL's uuid, SQLite's 32 lowercase hex digits)."""
    if isinstance(stored, UUID):
        return stored
    try:
        found = UUID(str(stored))
    except ValueError:
        return None
    return found if found.hex == stored else None


@contextmanager
def snapshot(
    engine: Engine, table: str, only: UUID | None = None, roles: bool = False
) -> Iterator[Snapshot]:
    """A read-only transaction over the event `table` and the read model of `engine`'s
    database (the same database); `only`: one aggregate's events; `roles`: with the role
    each was recorded under (PostgreSQL)."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")  # one read transaction: one snapshot
        else:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        try:
            yield Snapshot(connection, table, only, roles)
        finally:
            connection.rollback()


def events_table(recorder: Any) -> str:
    """The SQL name of the table where `recorder` (eventsourcing's) keeps the events."""
    name: str = recorder.events_table_name
    schema = getattr(getattr(recorder, "datastore", None), "schema", None)
    return f'"{schema}"."{name}"' if isinstance(schema, str) else name
