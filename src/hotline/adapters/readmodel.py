"""The order read model: one row per order, in tables beside the event store.

Days are stored as `date.toordinal()` numbers (0: no such event) and the
closed vocabularies as their small codes. Nothing calendar-dependent is
stored: deadlines are computed at query time. Beside them, the texts reports group
orders by (category levels, district, street, entity). The 26 facts the reports read
are also kept packed in one `facts` column (26 little-endian int32), so a
year of orders loads as one bytes value per order into numpy columns: reading
the columns one Python object each cost most of a report. The plain
columns stay for SQL readers (scripts/hand_rates.py) and for rewriting a row.

What each event changes in an order's row (and its rows of extensions, revisits and
supervisions) is `hotline.domain.facts`'s fold, the aggregate's view's too: this module only
keeps, packs and reads the rows.

A new layout gets a new tracking name; opening a read model of an older
layout drops it (on PostgreSQL only `hotline db upgrade` does), and the
projection rebuilds it from the events.
"""

from __future__ import annotations

import re
import struct
import sys
from base64 import b64decode, b64encode
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
from eventsourcing.persistence import Cipher
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Dialect,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    column,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import table as sql_table
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnClause

from hotline.adapters import eventstore
from hotline.adapters.eventstore import SCHEMA_LOCK, UPGRADE, SchemaError
from hotline.domain import credit_code, lengths
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.facts import (
    CATEGORY_COLUMNS,
    DETAILS,
    FACT_COLUMNS,
    NONE,
    ROW_CHANGES,
    STARTS,
    Detail,
    Extension,
    FactColumns,
    Revisit,
    StatusCode,
    Supervision,
)
from hotline.domain.lookback import Lookback
from hotline.domain.metrics import OrderColumns
from hotline.domain.order import correction_summary
from hotline.domain.store_key import short

metadata = MetaData()

orders = Table(
    "rm_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(lengths.ORDER_NUMBER), nullable=False, unique=True),
    Column("unit", String(lengths.UNIT_NAME), nullable=False, index=True),
    Column("channel", Integer, nullable=False),
    Column("kind", Integer, nullable=False),
    Column("repeat", Boolean, nullable=False),
    Column("status", Integer, nullable=False),
    Column("received_day", Integer, nullable=False, index=True),
    Column("contact_day", Integer, nullable=False),
    Column("returned_day", Integer, nullable=False),
    Column("out_of_jurisdiction", Boolean, nullable=False),
    Column("return_rejected", Boolean, nullable=False),
    Column("closed_day", Integer, nullable=False),
    Column("result", Integer, nullable=False),
    Column("citizen_informed", Boolean, nullable=False),
    Column("no_reply_requested", Boolean, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("rating_excluded", Boolean, nullable=False),
    Column("rated_day", Integer, nullable=False),
    # The 12315 lifecycle (SAMR Order No. 20): 受理, 不予受理, 调解终结, 立案决定, 告知.
    Column("accepted_day", Integer, nullable=False),
    Column("declined_day", Integer, nullable=False),
    Column("mediation_day", Integer, nullable=False),
    Column("mediation_outcome", Integer, nullable=False),
    Column("recovered_fen", Integer, nullable=False),
    Column("case_day", Integer, nullable=False),
    Column("case_filed", Boolean, nullable=False),
    Column("acceptance_notified_day", Integer, nullable=False),
    Column("mediation_notified_day", Integer, nullable=False),
    Column("case_notified_day", Integer, nullable=False),
    Column("contact_given", Boolean, nullable=False),
    # The day of its latest own fact, or for ever if still open (`settled_day`); the
    # lingering index holds the few settled long after they were received, or still open.
    Column("settled_day", Integer, nullable=False),
    Column("facts", LargeBinary, nullable=False),
    # What reports group orders by (`hotline.domain.facts.GROUP_COLUMNS`); NULL: not given.
    *(Column(name, String(lengths.CATEGORY_LEVEL)) for name in CATEGORY_COLUMNS),
    Column("district", String(lengths.PLACE_NAME)),
    Column("street", String(lengths.PLACE_NAME)),
    Column("entity", String(lengths.ENTITY_NAME)),
    Column("entity_code", String(credit_code.LENGTH)),
)
FACTS = struct.Struct(f"<{len(FACT_COLUMNS)}i")
"""An order's `FACT_COLUMNS` as packed, in that order, into `facts`."""
LOOKBACK_DAYS = 90
"""The orders received more than this before a period are read only through the indexes
of the few it may need (`_needed`); those received later, by their receipt day."""
STILL_OPEN = date.max.toordinal()
"""The `settled_day` of an order neither closed, declined nor returned: every later period
needs it."""
LINGERING = orders.c.settled_day > orders.c.received_day + literal_column(str(LOOKBACK_DAYS))
"""Orders settled more than `LOOKBACK_DAYS` after they were received, or still open: the only
ones received before a period's lookback that it may need. Literal, so that a query
repeating it matches the partial index's condition on both backends."""
Index("ix_rm_orders_lingering", orders.c.settled_day, orders.c.received_day,
      sqlite_where=LINGERING, postgresql_where=LINGERING)  # fmt: skip
CHAINED = or_(orders.c.accepted_day > literal_column("0"), orders.c.case_day > literal_column("0"))
"""Orders with a 12315 decision (受理, 立案决定; a mediation follows an acceptance) that a
limit counts from (`Lookback.chained`): Order No. 20's, a few. Literal, as `LINGERING`."""
Index("ix_rm_orders_chained", orders.c.settled_day, orders.c.received_day,
      sqlite_where=CHAINED, postgresql_where=CHAINED)  # fmt: skip
extensions = Table(
    "rm_extensions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("applied_day", Integer, nullable=False),
    Column("until_day", Integer, nullable=False, index=True),
)
revisits = Table(
    "rm_revisits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("day", Integer, nullable=False, index=True),
    Column("contacted", Boolean, nullable=False),
    Column("consistent", Boolean, nullable=False),
    Column("evaluation", Integer, nullable=False),
)
supervisions = Table(
    "rm_supervisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("day", Integer, nullable=False, index=True),
    Column("at_fault", Boolean, nullable=False),
)
findings = Table(
    "rm_findings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("rubric", String(60), nullable=False),
    Column("item", String(60), nullable=False),
    Column("unit", String(lengths.UNIT_NAME), nullable=False, index=True),
    Column("day", Integer, nullable=False, index=True),
    Column("count", Integer, nullable=False),
    Column("order_number", String(lengths.ORDER_NUMBER), nullable=True),
    Column("note", Text, nullable=False),  # sealed with a key (`ReadModel.seal`)
    Column("withdrawn", Boolean, nullable=False),
)
flags = Table(
    "rm_flags",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("limit_name", String(40), nullable=False),
    Column("level", String(20), nullable=False),
    Column("due_day", Integer, nullable=False),
    # When the scheduler flagged it: ISO 8601 with the +08:00 offset, so it sorts as text.
    Column("at", String(40), nullable=False, index=True),
)
audit = Table(
    "rm_audit",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    # When the store recorded it: ISO 8601 in Asia/Shanghai to the microsecond, so it sorts
    # as text.
    Column("recorded", String(40), nullable=False, index=True),
    Column("actor", String(lengths.PERSON_NAME), nullable=False),
    # The database role that stored it (PostgreSQL); empty on SQLite.
    Column("role", String(lengths.PERSON_NAME), nullable=False),
    Column("event", String(40), nullable=False),
    Column("detail", Text, nullable=False),  # sealed with a key (`ReadModel.seal`)
    # The event's link (`hotline.domain.aggregate.link`) as applied: `verify` compares it.
    Column("link", String(64), nullable=True),
)
"""Who recorded each event and when (录入人, 录入时间): the audit trail's index. Nothing of
a citizen's personal data: a correction of it shows masked; with a key, its free text (the
detail) is encrypted."""
tracking = Table(
    "rm_tracking",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)
TRACKING_NAME = "orders-v10"
"""The projection's name; a new read-model layout gets a new name (and a rebuild)."""
DETAIL_TABLES: dict[type[Detail], Table] = {
    Extension: extensions,
    Revisit: revisits,
    Supervision: supervisions,
}
"""Where each kind of an order's detail facts (`hotline.domain.facts.DETAILS`) is kept."""
FLAG_COLUMNS = (orders.c.number, orders.c.unit, flags.c.limit_name, flags.c.level,
                flags.c.due_day, flags.c.at)  # fmt: skip
"""What a `FlagRecord` is read from (rm_flags joined with rm_orders)."""


Row = dict[str, Any]

FETCH_BATCH = 10_000
"""Rows a read takes from the driver at a time."""
BATCH = 20_000
"""Orders a report evaluates at a time (`ReadModel.batches`): about 50 MB of columns, limits
and metrics, whatever the store's size."""


@dataclass(frozen=True)
class Change:
    """One stored event for the read model: its aggregate, version, class name and state.

    After a `Corrected` change come the order's events again, as corrected and `replayed`:
    the order's rows are made anew from them."""

    id: str
    version: int
    name: str
    state: Mapping[str, Any]
    replayed: bool = False
    link: str | None = None
    """The stored event's `link` (None for a replayed change)."""


@dataclass(frozen=True)
class AuditRecord:
    """One event in the audit trail: when the store recorded it, by whom, what, of which
    order (or finding; neither: the calendar), and for a correction what it changed."""

    recorded: datetime
    actor: str | None
    role: str | None
    event: str
    version: int
    order: str | None
    finding: str | None
    unit: str | None
    detail: str


SETTLING_DAYS = tuple(name for name in FACT_COLUMNS if name.endswith("_day"))
"""The days of an order's own facts (its row's), one of which `settled_day` is."""


def settled_day(row: Row) -> int:
    """The last day an order's facts change a period's figures: the latest of its days
    (a notice or a case decision may follow the close), `STILL_OPEN` if it is neither
    closed, declined nor returned (退单, while returned: a rejected one reopens the order).
    A period starting after it needs the order only for a limit falling in it (`_needed`),
    or a revisit or supervision in it."""
    returned = row["returned_day"] if row["status"] == StatusCode.RETURNED else NONE
    if all(row[name] == NONE for name in ("closed_day", "declined_day")) and returned == NONE:
        return STILL_OPEN
    return int(max(row[name] for name in SETTLING_DAYS))


def _recorded_text(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="microseconds")


def _audit(change: Change) -> Row:
    state = change.state
    return {
        "id": change.id,
        "version": change.version,
        "recorded": _recorded_text(datetime.fromisoformat(state["timestamp"])),
        "actor": state.get("actor") or "",
        "role": state.get("role") or "",
        "event": _snake(change.name),
        "detail": _detail(change.name, state),
        "link": change.link,
    }


@cache
def _snake(class_name: str) -> str:
    """An event class's domain.md §3 name: FirstContact -> first_contact."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", class_name).lower()


def _detail(name: str, state: Mapping[str, Any]) -> str:
    """What the audit trail says of a correction, a reveal, a withdrawal, a key or a unit."""
    if name == "Corrected":
        return correction_summary(state)[: lengths.AUDIT_DETAIL]
    if name in ("Revealed", "FindingWithdrawn"):
        return str(state["reason"])[: lengths.AUDIT_DETAIL]
    if name == "KeyRotationStarted":
        return f"key {short(state['old'])} to {short(state['new'])}"
    if name in ("KeyRecorded", "KeyRotationFinished"):
        return f"key {short(state['fingerprint'])}"
    if name == "UnitAdded":
        return str(state["unit"])[: lengths.AUDIT_DETAIL]
    if name == "UnitRenamed":
        return f"{state['old']} to {state['new']} on {state['on']}"[: lengths.AUDIT_DETAIL]
    return ""


@dataclass(frozen=True)
class FindingRecord:
    """A finding not withdrawn (`hotline.domain.finding`), as the scoring reads it."""

    id: str
    rubric: str
    item: str
    unit: str
    day: date
    count: int
    order: str | None
    note: str


def _finding(change: Change) -> Row:
    state = change.state
    return {
        "id": change.id,
        "rubric": state["rubric"],
        "item": state["item"],
        "unit": state["unit"],
        "day": date.fromisoformat(state["day"]).toordinal(),
        "count": state["count"],
        "order_number": state["order"],
        "note": state["note"],
        "withdrawn": False,
    }


def older_layout(names: Collection[str]) -> bool:
    """Whether a read model whose tracking rows have these names is of an older layout."""
    return bool(names) and TRACKING_NAME not in names


def _older_layout(connection: Connection) -> bool:
    """Whether the database holds a read model of an older layout."""
    if not inspect(connection).has_table(tracking.name):
        return False
    return older_layout(set(connection.scalars(select(tracking.c.name))))


def _pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={eventstore.LOCK_TIMEOUT * 1000}")
    cursor.close()


CREATE_ATTEMPTS = 20
"""Times to try creating the tables while other processes create them too (each try finds
more of them there)."""


SEALED = "\x01aes1:"
"""Starts a read-model text sealed with the store's key (the base64 of its ciphertext follows):
no text hotline accepts starts with a control character."""


class ReadModel:
    """The read-model tables in one database, and the operations the projection needs.

    On SQLite it creates its tables itself (and drops those of an older layout); on
    PostgreSQL only `create`, for `hotline db init | upgrade`, does. With a `cipher` (the
    store's key), the free texts (audit details, finding notes) are kept encrypted, as the
    events are."""

    def __init__(self, url: str, cipher: Cipher | None = None) -> None:
        self.cipher = cipher
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _pragmas)
            self.create(upgrade=True)

    def create(self, upgrade: bool) -> bool:
        """Create the tables and the tracking row, if not there; with `upgrade`, drop a read
        model of an older layout first (the projection rebuilds it), else refuse it. Whether
        it dropped one."""
        for attempt in range(CREATE_ATTEMPTS):
            try:
                dropped = self._create_tables(upgrade)
                break
            except OperationalError as error:
                # SQLite creates tables outside a transaction: another process opening a new
                # store at the same moment created one between our look and our CREATE.
                if "already exists" not in str(error) or attempt == CREATE_ATTEMPTS - 1:
                    raise
        try:
            with self.engine.begin() as connection:
                if connection.scalar(select(func.count()).select_from(tracking)) == 0:
                    connection.execute(insert(tracking).values(name=TRACKING_NAME, position=0))
        except IntegrityError:
            pass  # another process started the tracking row at the same moment
        return dropped

    def _create_tables(self, upgrade: bool) -> bool:
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                # Two processes creating the tables at once would clash on PostgreSQL.
                connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
            older = _older_layout(connection)
            if older:
                if not upgrade:
                    raise SchemaError(f"the store's read model is of an older layout; {UPGRADE}")
                metadata.drop_all(connection)
            metadata.create_all(connection)
        return older

    def seal(self, text: str) -> str:
        """`text` as kept: encrypted with a cipher (an empty text stays empty)."""
        if self.cipher is None or not text:
            return text
        return SEALED + b64encode(self.cipher.encrypt(text.encode())).decode()

    def unseal(self, kept: str) -> str:
        """A text as `seal` kept it, readable (one kept before the key was set is as it was)."""
        if not kept.startswith(SEALED) or self.cipher is None:
            return kept
        return self.cipher.decrypt(b64decode(kept.removeprefix(SEALED))).decode()

    def position(self) -> int:
        """The last notification id applied (0: none yet)."""
        with self.engine.connect() as connection:
            found = connection.scalar(
                select(tracking.c.position).where(tracking.c.name == TRACKING_NAME)
            )
        return int(found or 0)

    def reset(self) -> None:
        """Empty every read-model table, so the projection starts from the beginning."""
        with self.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(delete(table))
            connection.execute(insert(tracking).values(name=TRACKING_NAME, position=0))

    def apply(self, changes: Iterable[Change], start: int, end: int) -> bool:
        """Apply `changes` (the notifications after position `start`, up to `end`) and move
        the position from `start` to `end`, in one transaction: exactly once. False, with
        nothing written, if another process moved the position first."""
        with self.engine.begin() as connection:
            claimed = connection.execute(
                update(tracking)
                .where(tracking.c.name == TRACKING_NAME, tracking.c.position == start)
                .values(position=end)
            )
            if claimed.rowcount == 0:
                return False
            self._apply(connection, list(changes))
        return True

    def _apply(self, connection: Connection, changes: list[Change]) -> None:
        names = [_snake(c.name) for c in changes]
        touched = {c.id for c, name in zip(changes, names, strict=True)
                   if name in ROW_CHANGES and name != STARTS}  # fmt: skip
        pending = _Pending(dict(self._rows(connection, touched)))
        pending.trail = [_audit(c) for c in changes if not c.replayed]
        for change, name in zip(changes, names, strict=True):
            pending.fold(change, name)
        for row in pending.rows.values():
            _finish(row)
        self._write(connection, pending, fresh=False)

    def refill(self) -> Refill:
        """The read model emptied and written anew in one transaction (`projections
        rebuild`): until `Refill.commit`, other connections see the old one."""
        return Refill(self)

    def _write(self, connection: Connection, pending: _Pending, fresh: bool) -> None:
        """Write `pending`'s rows; `fresh`: the tables hold no row of its aggregates yet."""
        for entry in pending.trail:
            entry["detail"] = self.seal(entry["detail"])
        if not fresh:
            for chunk in _chunks(list(pending.remade), 500):
                for table in pending.extra:
                    connection.execute(delete(table).where(table.c.id.in_(chunk)))
        if pending.trail:
            self._insert_many(connection, audit, pending.trail)
        if pending.rows:
            if not fresh:
                for chunk in _chunks(list(pending.rows), 500):
                    connection.execute(delete(orders).where(orders.c.id.in_(chunk)))
            self._insert_many(connection, orders, list(pending.rows.values()))
        for table, new in pending.extra.items():
            if new:
                self._insert_many(connection, table, new)
        if pending.new_findings:
            for row in pending.new_findings.values():
                row["note"] = self.seal(row["note"])
            self._insert_many(connection, findings, list(pending.new_findings.values()))
        for chunk in _chunks(pending.withdrawn, 500):
            connection.execute(
                update(findings).where(findings.c.id.in_(chunk)).values(withdrawn=True)
            )

    def _insert_many(self, connection: Connection, table: Table, rows: list[Row]) -> None:
        """INSERT `rows` with the driver's executemany: SQLAlchemy's per-row parameter
        processing costs more than the insert itself."""
        statement = _DriverSQL.of(insert(table), self.engine.dialect)
        if statement.order is None:  # by name: the rows as they are
            connection.exec_driver_sql(statement.text, rows)
        else:
            values = list(map(itemgetter(*statement.order), rows))
            connection.exec_driver_sql(statement.text, values)

    def _batches(self, connection: Connection, query: ClauseElement) -> Iterator[Sequence[Any]]:
        """The rows of `query` as the driver's own tuples, `FETCH_BATCH` at a time; on
        PostgreSQL through a server-side cursor, so that the client never holds them all."""
        statement = _DriverSQL.of(query, self.engine.dialect)
        server_side = self.engine.dialect.name == "postgresql"
        cursor = connection.connection.cursor(*(["hotline_read"] if server_side else []))
        try:
            cursor.execute(statement.text, statement.parameters())
            while batch := cursor.fetchmany(FETCH_BATCH):
                yield batch
        finally:
            cursor.close()

    def _rows(self, connection: Connection, ids: set[str]) -> Iterator[tuple[str, Row]]:
        for chunk in _chunks(list(ids), 500):
            for found in connection.execute(select(orders).where(orders.c.id.in_(chunk))):
                yield found.id, dict(found._mapping)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(orders)) or 0)

    def stored_events(self, table: str, after: int = 0) -> int:
        """How many events the store's table `table` (in the same database) holds after
        notification id `after`: the ids have gaps on PostgreSQL (its sequence skips the ids
        of transactions rolled back), so a difference of ids is no count."""
        sqlite = self.engine.dialect.name == "sqlite"  # where the notification id is the rowid
        notification_id: ColumnClause[int] = column("rowid" if sqlite else "notification_id")
        stored = sql_table(table, notification_id)
        query = select(func.count()).select_from(stored).where(notification_id > after)
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    def flags(self, since: datetime | None = None, unit: str | None = None) -> list[FlagRecord]:
        """The scheduler's flags, oldest first: those made at or after `since`, of `unit`."""
        query = (
            select(*FLAG_COLUMNS)
            .join(orders, orders.c.id == flags.c.id)
            .order_by(flags.c.at, orders.c.number, flags.c.version)
        )
        if since is not None:
            query = query.where(flags.c.at >= since.isoformat())
        if unit is not None:
            query = query.where(orders.c.unit == unit)
        with self.engine.connect() as connection:
            return [_flag_record(row) for row in connection.execute(query)]

    def trail(
        self,
        unit: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditRecord]:
        """Who recorded what, oldest first: the events of `unit`'s orders and findings (with
        None: of everything, the calendar's too), by `actor` (the person, or the database
        role that stored them), recorded in [since, until)."""
        subject = func.coalesce(orders.c.number, findings.c.id)
        owner = func.coalesce(orders.c.unit, findings.c.unit)
        query = (
            select(audit.c.recorded, audit.c.actor, audit.c.event, audit.c.version, subject,
                   owner, findings.c.id.is_not(None), audit.c.detail, audit.c.role)
            .outerjoin(orders, orders.c.id == audit.c.id)
            .outerjoin(findings, findings.c.id == audit.c.id)
            .order_by(audit.c.recorded, audit.c.id, audit.c.version)
        )  # fmt: skip
        if unit is not None:
            query = query.where(owner == unit)
        if actor is not None:
            query = query.where((audit.c.actor == actor) | (audit.c.role == actor))
        if since is not None:
            query = query.where(audit.c.recorded >= _recorded_text(since))
        if until is not None:
            query = query.where(audit.c.recorded < _recorded_text(until))
        with self.engine.connect() as connection:
            return [
                AuditRecord(
                    recorded=datetime.fromisoformat(row[0]),
                    actor=row[1] or None,
                    role=row[8] or None,
                    event=row[2],
                    version=row[3],
                    order=None if row[6] else row[4],
                    finding=row[4] if row[6] else None,
                    unit=row[5],
                    detail=self.unseal(row[7]),
                )
                for row in connection.execute(query)
            ]

    def open_flags(self) -> dict[tuple[str, str], FlagRecord]:
        """The latest flag on each (order number, limit) of the open orders."""
        query = (
            select(*FLAG_COLUMNS)
            .join(orders, orders.c.id == flags.c.id)
            .where(orders.c.status == StatusCode.OPEN)
            .order_by(flags.c.at, flags.c.version)
        )
        with self.engine.connect() as connection:
            return {(f.number, f.limit): f for f in map(_flag_record, connection.execute(query))}

    def findings(
        self, start: date, end: date, *, rubric: str | None = None, unit: str | None = None
    ) -> list[FindingRecord]:
        """The findings not withdrawn whose day is in `start` … `end` (both included),
        of one rubric (by name) and one unit if given, by day then id."""
        query = (
            select(findings)
            .where(~findings.c.withdrawn)
            .where(findings.c.day >= start.toordinal())
            .where(findings.c.day <= end.toordinal())
            .order_by(findings.c.day, findings.c.id)
        )
        if rubric is not None:
            query = query.where(findings.c.rubric == rubric)
        if unit is not None:
            query = query.where(findings.c.unit == unit)
        with self.engine.connect() as connection:
            rows = [row._mapping for row in connection.execute(query)]
        return [
            FindingRecord(
                id=row["id"], rubric=row["rubric"], item=row["item"], unit=row["unit"],
                day=date.fromordinal(row["day"]), count=row["count"],
                order=row["order_number"], note=self.unseal(row["note"]),
            )
            for row in rows
        ]  # fmt: skip

    def received_by(
        self, start: date, end: date, keys: Sequence[str], unit: str | None = None
    ) -> list[tuple[tuple[str | None, ...], int, int]]:
        """The orders received in `start` … `end` (of `unit`, if given) grouped by the
        `GROUP_COLUMNS` `keys`: each group's key values (None: not given), how many orders
        and how many of them repeats (重复工单)."""
        grouped = [orders.c[name] for name in keys]
        query = (
            select(*grouped, func.count(), func.count(case((orders.c.repeat, 1))))
            .where(orders.c.received_day >= start.toordinal())
            .where(orders.c.received_day <= end.toordinal())
            .group_by(*grouped)
        )
        if unit is not None:
            query = query.where(orders.c.unit == unit)
        with self.engine.connect() as connection:
            found = connection.execute(query)
            return [(tuple(row[: len(keys)]), row[-2], row[-1]) for row in found]

    def load(self, lookback: Lookback, end: date, category: Sequence[str] = ()) -> OrderColumns:
        """Orders that matter to a period (`batches`), all in one."""
        return next(self.batches(lookback, end, category, size=sys.maxsize))

    def batches(
        self,
        lookback: Lookback,
        end: date,
        category: Sequence[str] = (),
        size: int | None = None,
    ) -> Iterator[OrderColumns]:
        """Orders that matter to the period from `lookback.first` to `end`: received by its
        end, and received in it, or early enough that a limit may fall in it (`lookback`), or
        with a fact, revisit or supervision in it, or still open (`_needed`); only those whose
        category starts with the levels `category`, if given. They come `size` orders at a
        time (None: `BATCH`), each with its own extensions, revisits and supervisions, and at
        least one (perhaps empty) batch: a report that sums its counts batch by batch holds
        one batch at a time, not a city's year (domain.md's metrics are counts, so their sums
        do not depend on the batches)."""
        size = BATCH if size is None else size
        first, last = lookback.first, end.toordinal()
        chosen = [orders.c[f"category{n}"] == level for n, level in enumerate(category, 1)]
        recent, *older = (select(orders.c.id, orders.c.number, orders.c.unit, orders.c.district,
                                 orders.c.facts).where(*part, *chosen)
                          for part in _needed(lookback, last))  # fmt: skip
        earliest = _earliest(lookback)
        with self.engine.connect() as connection:
            # The few orders received before the lookback first, so that their extensions
            # (of any day) are read by their ids; then the period's details by their own
            # indexes, by order id: joining them to the orders, or repeating the period's
            # parts for them, cost a 2019-size report 0.6 s.
            old = [row for rows in self._batches(connection, union_all(*older)) for row in rows]
            old_ids = [row[0] for row in old]
            details = (
                _by_id(sorted(
                    [
                        *_rows(self._batches(
                            connection,
                            select(extensions.c.id, extensions.c.version,
                                   extensions.c.applied_day, extensions.c.until_day)
                            .where(extensions.c.until_day >= earliest),
                        )),
                        *(row for chunk in _chunks(old_ids, 500) for row in _rows(self._batches(
                            connection,
                            select(extensions.c.id, extensions.c.version,
                                   extensions.c.applied_day, extensions.c.until_day)
                            .where(extensions.c.until_day < earliest)
                            .where(extensions.c.id.in_(chunk)),
                        ))),
                    ],
                    key=itemgetter(0, 1),
                ), skip=2),
                _by_id(_rows(self._batches(
                    connection,
                    select(revisits.c.id, revisits.c.day, revisits.c.contacted,
                           revisits.c.consistent, revisits.c.evaluation)
                    .where(revisits.c.day <= last)
                    .where(revisits.c.day >= first),
                ))),
                _by_id(_rows(self._batches(
                    connection,
                    select(supervisions.c.id, supervisions.c.day, supervisions.c.at_fault)
                    .where(supervisions.c.day <= last)
                    .where(supervisions.c.day >= first),
                ))),
            )  # fmt: skip
            found = _OrderBatch()
            for rows in chain([old], self._batches(connection, recent)):
                while rows:
                    room = size - len(found.numbers)
                    found.extend(rows[:room])
                    rows = rows[room:]
                    if len(found.numbers) == size:
                        yield found.columns(details)
                        found = _OrderBatch(found.names, found.places)
        if found.numbers or not found.emitted:
            yield found.columns(details)


def _rows(batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[Sequence[Any]]:
    for batch in batches:
        yield from batch


def _by_id(rows: Iterable[Sequence[Any]], skip: int = 1) -> dict[str, list[Sequence[Any]]]:
    """Detail rows (the order's id first) by order id, each order's in the order given, with
    the fields after the first `skip` (the id; for extensions also the version they are
    sorted by)."""
    found: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[skip:])
    return found


class _OrderBatch:
    """The orders of a batch as read: their numbers, units, districts and packed facts; a
    unit's and a district's name is kept once (a list of every order's row, and a name per
    order, took most of a report's memory)."""

    def __init__(
        self,
        names: dict[str, str] | None = None,
        places: dict[str | None, str | None] | None = None,
    ) -> None:
        self.ids: list[str] = []
        self.numbers: list[str] = []
        self.units: list[str] = []
        self.districts: list[str | None] = []
        self.packed = bytearray()
        self.names: dict[str, str] = {} if names is None else names
        self.places: dict[str | None, str | None] = {} if places is None else places
        self.emitted = names is not None
        """Whether a batch came before this one."""

    def extend(self, rows: Sequence[Sequence[Any]]) -> None:
        """Add orders' rows (id, number, unit, district, packed facts) a column at a time:
        a call per order cost a 2019-size report 0.1 s."""
        names, places = self.names, self.places
        self.ids += [row[0] for row in rows]
        self.numbers += [row[1] for row in rows]
        self.units += [names.setdefault(row[2], row[2]) for row in rows]
        self.districts += [places.setdefault(row[3], row[3]) for row in rows]
        self.packed += b"".join([row[4] for row in rows])

    def columns(self, details: Sequence[Mapping[str, list[Sequence[Any]]]]) -> OrderColumns:
        """The batch's columns, with the rows of `details` (extensions, revisits,
        supervisions by order id: perhaps of other orders too) of its orders."""
        numbers = self.numbers
        facts = np.frombuffer(self.packed, dtype=np.dtype("<i4")).astype(np.int64)
        self.packed = bytearray()  # the int32 copy, before the metrics' columns are made
        # The row of each order with an extension, revisit or supervision (a map of every
        # order cost a report on the city's 1.7 million orders 0.7 s).
        rows: list[list[tuple[Any, ...]]] = [[] for _ in details]
        needed = set().union(*details)
        for position in [at for at, order_id in enumerate(self.ids) if order_id in needed]:
            order_id = self.ids[position]
            for kind, found in zip(rows, details, strict=True):
                kind.extend((position, *row) for row in found.get(order_id, ()))
        return OrderColumns.of_facts(
            FactColumns.build(
                numbers, self.units, self.districts,
                facts.reshape(len(numbers), len(FACT_COLUMNS)), *rows,
            )
        )  # fmt: skip


class _Pending:
    """Read-model rows made from changes, not yet written."""

    def __init__(self, rows: dict[str, Row] | None = None) -> None:
        self.rows: dict[str, Row] = rows or {}
        self.extra: dict[Table, list[Row]] = {
            extensions: [],
            revisits: [],
            supervisions: [],
            flags: [],
        }
        self.trail: list[Row] = []
        self.new_findings: dict[str, Row] = {}
        self.withdrawn: list[str] = []
        self.remade: set[str] = set()

    def fold(self, change: Change, name: str) -> None:
        """What `change` (its `_snake` name `name`) makes of the rows."""
        state = change.state
        row_change = ROW_CHANGES.get(name)
        detail = DETAILS.get(name)
        if change.name == "Corrected":  # the order's events follow, corrected
            self.remade.add(change.id)
            self.rows.pop(change.id, None)
            for table, new in self.extra.items():
                self.extra[table] = [row for row in new if row["id"] != change.id]
        elif row_change is not None:
            row_change(self.rows.setdefault(change.id, {"id": change.id}), state)
        elif detail is not None:
            found = detail(change.version, state)
            self.extra[DETAIL_TABLES[type(found)]].append({"id": change.id, **found._asdict()})
        elif change.name == "Flagged":
            self.extra[flags].append(
                {"id": change.id, "version": change.version, "limit_name": state["limit"],
                 "level": state["level"], "at": datetime.fromisoformat(state["at"]).isoformat(),
                 "due_day": date.fromisoformat(state["due"]).toordinal()}
            )  # fmt: skip
        elif change.name == "FindingRecorded":
            self.new_findings[change.id] = _finding(change)
        elif change.name == "FindingWithdrawn":
            if change.id in self.new_findings:
                self.new_findings[change.id]["withdrawn"] = True
            else:
                self.withdrawn.append(change.id)


def _finish(row: Row) -> None:
    """An order row's packed facts and settled day, from its columns."""
    row["facts"] = FACTS.pack(*(row[name] for name in FACT_COLUMNS))
    row["settled_day"] = settled_day(row)


UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, IndexError, struct.error)
"""What folding a state the fold cannot read raises (a field missing, of the wrong type)."""
REFILL_BATCH = 50_000
"""Audit rows a refill writes at a time."""
REFILL_CACHE_KIB = 65_536
"""SQLite's page cache for a refill's one transaction (its default is 2 MiB): the tables'
and their rebuilt indexes' pages stay in memory instead of spilling to the journal."""


class Refill:
    """One transaction that empties the read model and fills it an aggregate at a time from
    a pass over the store (`projections rebuild`): a crash or a refusal leaves the old one.

    On SQLite the secondary indexes are dropped in the transaction and built again before
    it commits: one sort each instead of a B-tree insert per row at a random place (a
    quarter of the rebuild). Other connections go on reading the old tables and indexes
    (WAL) until the commit. Not on PostgreSQL, where dropping an index locks its table
    against readers until the commit."""

    def __init__(self, readmodel: ReadModel) -> None:
        self._readmodel = readmodel
        self._connection = readmodel.engine.connect()
        self._transaction = self._connection.begin()
        self._indexes: list[Index] = []
        if self._connection.dialect.name == "sqlite":
            self._cache = self._connection.exec_driver_sql("PRAGMA cache_size").scalar()
            self._connection.exec_driver_sql(f"PRAGMA cache_size=-{REFILL_CACHE_KIB}")
            self._indexes = [index for table in metadata.sorted_tables for index in table.indexes]
        for table in reversed(metadata.sorted_tables):
            self._connection.execute(delete(table))
        for index in self._indexes:
            index.drop(self._connection)
        self._pending = _Pending()
        self.applied = 0

    def add(self, changes: Sequence[Change]) -> dict[int, str]:
        """Fold one aggregate's changes (all of them, in version order); what the fold cannot
        read of them, by version (the aggregate's rows are then left out, its trail kept)."""
        pending = self._pending
        extra = {table: len(rows) for table, rows in pending.extra.items()}
        withdrawn = len(pending.withdrawn)
        faults: dict[int, str] = {}
        for change in changes:
            try:
                if not change.replayed:
                    pending.trail.append(_audit(change))
                    self.applied += 1
                pending.fold(change, _snake(change.name))
            except UNREADABLE as error:
                faults.setdefault(change.version, _unreadable(error))
        aggregate = changes[0].id if changes else None
        row = pending.rows.get(aggregate) if aggregate else None
        if row is not None and not faults:
            try:
                _finish(row)
            except UNREADABLE as error:
                faults[changes[0].version] = _unreadable(error)
        if faults and aggregate:
            pending.rows.pop(aggregate, None)
            pending.new_findings.pop(aggregate, None)
            for table, rows in pending.extra.items():
                del rows[extra[table] :]
            del pending.withdrawn[withdrawn:]
        if len(pending.trail) >= REFILL_BATCH:
            self._flush()
        return faults

    def _flush(self) -> None:
        self._readmodel._write(self._connection, self._pending, fresh=True)
        self._pending = _Pending()

    def commit(self, position: int) -> None:
        """Write what is pending, set the position to `position` and commit."""
        self._flush()
        for index in self._indexes:
            index.create(self._connection)
        self._connection.execute(insert(tracking).values(name=TRACKING_NAME, position=position))
        self._transaction.commit()

    def close(self) -> None:
        """Roll back what is not committed and let go of the connection (its cache as it
        was, for the pool's next user)."""
        if self._transaction.is_active:
            self._transaction.rollback()
        if self._indexes:
            self._connection.exec_driver_sql(f"PRAGMA cache_size={self._cache}")
        self._connection.close()

    def __enter__(self) -> Refill:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _unreadable(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"its state has no {error.args[0]!r}, which the read model needs"
    return f"its state cannot be read into the read model ({type(error).__name__}: {error})"


@dataclass(frozen=True)
class FlagRecord:
    """A scheduler's flag on an order, for the alert feed."""

    number: str
    unit: str
    limit: str
    level: str
    due: date
    at: datetime


def _flag_record(row: Sequence[Any]) -> FlagRecord:
    return FlagRecord(row[0], row[1], row[2], row[3], date.fromordinal(row[4]),
                      datetime.fromisoformat(row[5]))  # fmt: skip


@dataclass(frozen=True)
class _DriverSQL:
    """A statement as the driver's own SQL text (for its executemany and its plain rows)."""

    text: str
    order: tuple[str, ...] | None
    """The parameters' names in order, for a positional paramstyle (None: passed by name)."""
    values: Mapping[str, Any]
    """The statement's own bound values."""

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> _DriverSQL:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler)
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        return cls(str(compiled), order, compiled.params)

    def parameters(self, values: Mapping[str, Any] | None = None) -> Any:
        """`values` (default: the statement's own) as the driver takes them."""
        values = self.values if values is None else values
        return dict(values) if self.order is None else tuple(values[name] for name in self.order)


def _needed(lookback: Lookback, last: int) -> tuple[tuple[ColumnElement[bool], ...], ...]:
    """The orders a period (`lookback.first` … `last`) needs, in four disjoint parts each
    read by its own index, of the orders received by its end: received in the last
    `LOOKBACK_DAYS` before it (or the lookback's earliest day, if earlier) or in it, and
    received in the period, or late enough that a limit counted from the receipt may fall in
    it (`Lookback.received`), or with a 12315 decision late enough (`Lookback.chained`), a
    fact in it or later (`settled_day`, still open included), an extension promised for it
    or later, or a revisit or supervision in it; or received before that and settled in the
    period or later, which only `LINGERING` orders can be; or, settled before it, one of the
    few `CHAINED` with a decision late enough; or, neither, one with such an extension,
    revisit or supervision. So a report reads its own period's orders, the few of the
    lookback that can count, and not every year of the store."""
    first = lookback.first
    received, settled = orders.c.received_day, orders.c.settled_day
    earliest = _earliest(lookback)
    promised, revisit, supervision = extensions.alias(), revisits.alias(), supervisions.alias()
    later = or_(
        orders.c.id.in_(select(promised.c.id).where(promised.c.until_day >= first)),
        orders.c.id.in_(select(revisit.c.id).where(revisit.c.day >= first, revisit.c.day <= last)),
        orders.c.id.in_(
            select(supervision.c.id).where(supervision.c.day >= first, supervision.c.day <= last)
        ),
    )
    by_day: dict[tuple[int, int], list[int]] = {}
    for (channel, kind), day in lookback.received.items():
        if day < first:
            by_day.setdefault((channel, day), []).append(kind)
    limited = [
        and_(orders.c.channel == channel, orders.c.kind.in_(kinds), received >= day)
        for (channel, day), kinds in sorted(by_day.items())
    ]
    chained = and_(CHAINED, settled >= lookback.chained)
    return (
        (received >= earliest, received <= last,
         or_(received >= first, settled >= first, *limited, chained, later)),
        (received < earliest, settled >= first, LINGERING),
        (received < earliest, settled < first, CHAINED, settled >= lookback.chained),
        (received < earliest, settled < first, not_(chained), later),
    )  # fmt: skip


def _earliest(lookback: Lookback) -> int:
    """The first receipt day of the orders `_needed`'s first part reads by receipt: an
    extension of one of them is promised for this day or later (after the day it was
    applied for, which is not before the receipt: `Order.extend`)."""
    return min(lookback.first - LOOKBACK_DAYS, lookback.earliest)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
