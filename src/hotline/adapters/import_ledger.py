"""The import ledger (导入台账): what each order's export row last looked like when imported.

A re-import of an unchanged export spends most of its time reading the rows into events
only to find them stored already. The ledger keeps, per order (by its UUID, not its
number), a digest of the row last imported or found unchanged (for an .xlsx, the row's
XML and the shared strings it names; for other formats, its cells as read; with the
mapping and the columns' order), the order's version then and the row's events: a row
whose digest and order's version both still match is unchanged without being parsed.

It is a cache, never the truth: written after the batch's events are committed (a crash in
between costs a full comparison next time), and without it (dropped, emptied, not
readable) every row is compared as before. A row holds personal data, so the digest is a
keyed BLAKE2b: under a key derived from the store's key when the store is encrypted.

JSON Lines have no rows but lines, each one event, and events are never removed: the line
ledger keeps a digest of each chunk of lines (an import's batch, its raw bytes) whose lines
were all found present or imported, none refused, so a re-import counts such a chunk's lines
already present without parsing one; any other chunk is imported line by line as before.
"""

from __future__ import annotations

import hashlib
from base64 import b64decode
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, Uuid, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

LEDGER_TABLE = "import_ledger"
LINE_LEDGER_TABLE = "import_line_ledger"
LEDGER_TABLES = (LEDGER_TABLE, LINE_LEDGER_TABLE)
"""Both made by `hotline db init | upgrade`, with the same grants."""
CHUNK = 5_000
"""Ids asked for in one statement (SQLite takes at most 32,766 parameters)."""
DIGEST_BYTES = 32
DIGEST_VERSION = b"ledger-digest/2\0"
"""Fed first to every digest, changed whenever what a digest covers changes (2: an .xlsx
row's XML and shared strings, not its cells as read), so an entry written before is a
miss, never a match."""

ledger_metadata = MetaData()
"""Its own metadata: the ledger is neither the read model (rebuilt from the events, readable
by every role) nor the events."""
ledger = Table(
    LEDGER_TABLE,
    ledger_metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("digest", LargeBinary(DIGEST_BYTES), nullable=False),
    Column("version", Integer, nullable=False),
    Column("events", Integer, nullable=False),
)

line_ledger = Table(
    LINE_LEDGER_TABLE,
    ledger_metadata,
    Column("digest", LargeBinary(DIGEST_BYTES), primary_key=True),
    Column("events", Integer, nullable=False),  # its lines that are not blank
)


@dataclass(frozen=True)
class LedgerEntry:
    digest: bytes
    version: int
    """The order's version when the row was last imported or found unchanged."""
    events: int
    """The row's events (all already present when it is found unchanged again)."""


def row_hasher(store_key: str | None, context: bytes) -> Any:
    """A BLAKE2b ready for a row's bytes: keyed by a key derived from the store's (base64)
    key if it has one, fed `context` (what else decides how a row reads, such as the unit
    registry) first; `.copy()` it for each row."""
    key = b""
    if store_key:
        key = hashlib.blake2b(
            b64decode(store_key), digest_size=DIGEST_BYTES, person=b"hotline-ledger"
        ).digest()
    hasher = hashlib.blake2b(key=key, digest_size=DIGEST_BYTES)
    hasher.update(DIGEST_VERSION)
    hasher.update(context)
    return hasher


class ImportLedger:
    """The ledger's table on the store's database (`engine`, the read model's): on SQLite
    created when missing, as every table there; on PostgreSQL by `hotline db init |
    upgrade`, and used only as far as the role may (a reader may not see it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if engine.dialect.name == "sqlite":
            create_ledger_table(engine)
            self.readable = self.writable = True
            self.lines_readable = self.lines_writable = True
        else:  # a store made before the line ledger has only the rows' table until upgraded
            with engine.connect() as connection:
                row = connection.execute(
                    text(
                        "SELECT has_table_privilege(to_regclass(:t), 'SELECT'), "
                        "has_table_privilege(to_regclass(:t), 'INSERT'), "
                        "has_table_privilege(to_regclass(:l), 'SELECT'), "
                        "has_table_privilege(to_regclass(:l), 'INSERT')"
                    ),
                    {"t": LEDGER_TABLE, "l": LINE_LEDGER_TABLE},
                ).one()
            self.readable, self.writable = bool(row[0]), bool(row[0] and row[1])
            self.lines_readable, self.lines_writable = bool(row[2]), bool(row[2] and row[3])

    def entries(self, ids: Iterable[UUID]) -> dict[UUID, LedgerEntry]:
        """The ledger's entries of those of `ids` that have one."""
        if not self.readable:
            return {}
        wanted = list(dict.fromkeys(ids))
        found: dict[UUID, LedgerEntry] = {}
        sqlite = self.engine.dialect.name == "sqlite"
        columns = f"SELECT order_id, digest, version, events FROM {LEDGER_TABLE} WHERE order_id"
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                # The driver's own rows (a re-import's ledger read was a third of its time
                # through SQLAlchemy's compiled statement and row objects); SQLite keeps an id
                # as its 32 hex digits, PostgreSQL as a uuid.
                if sqlite:
                    by_key: dict[Any, UUID] = {key.hex: key for key in chunk}
                    statement = f"{columns} IN ({','.join('?' * len(chunk))})"
                    rows = connection.exec_driver_sql(statement, tuple(by_key))
                else:
                    by_key = {key: key for key in chunk}
                    rows = connection.exec_driver_sql(f"{columns} = ANY(%s)", (chunk,))
                for key, digest, version, events in rows:
                    found[by_key[key]] = LedgerEntry(bytes(digest), version, events)
        return found

    def record(self, entries: dict[UUID, LedgerEntry]) -> None:
        """Keep each order's entry (replacing the one it had)."""
        if not self.writable or not entries:
            return
        insert = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert
        rows = [
            {"order_id": key, "digest": e.digest, "version": e.version, "events": e.events}
            for key, e in entries.items()
        ]
        statement = insert(ledger)
        statement = statement.on_conflict_do_update(
            index_elements=[ledger.c.order_id],
            set_={name: statement.excluded[name] for name in ("digest", "version", "events")},
        )
        with self.engine.begin() as connection:
            for start in range(0, len(rows), CHUNK):
                connection.execute(statement, rows[start : start + CHUNK])

    def known_lines(self, digest: bytes) -> int | None:
        """The events of the chunk of lines of `digest` if the ledger knows it, else None."""
        if not self.lines_readable:
            return None
        placeholder = "?" if self.engine.dialect.name == "sqlite" else "%s"
        statement = f"SELECT events FROM {LINE_LEDGER_TABLE} WHERE digest = {placeholder}"
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql(statement, (digest,)).first()
        return None if row is None else int(row[0])

    def record_lines(self, digest: bytes, events: int) -> None:
        """Keep a chunk of lines all present (another import may have kept it already)."""
        if not self.lines_writable:
            return
        insert = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert
        statement = insert(line_ledger).values(digest=digest, events=events)
        with self.engine.begin() as connection:
            connection.execute(statement.on_conflict_do_nothing(index_elements=["digest"]))


def create_ledger_table(engine: Engine) -> None:
    """Create the ledger's tables if they are not there (for `hotline db init | upgrade`)."""
    ledger_metadata.create_all(engine, checkfirst=True)
