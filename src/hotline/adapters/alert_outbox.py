"""The alert outbox's tables, in the store's database: where each route starts
(`alert_routes`) and each flag's delivery by each route (`alert_deliveries`).

A flag is taken by a route when it has a delivery row there: `sent`, or `failed` with its
attempts, the receiver's message and when to try again. The rows of a message are written
in one transaction right after it was sent (or refused), so the deliveries are the
delivery position: a crash between a send and its commit repeats that one message, and
nothing else (docs/alerts.md). On SQLite the tables are created when missing; on
PostgreSQL by `hotline db init | upgrade`, written by the scheduler's role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from hotline.adapters.readmodel import flags, orders
from hotline.domain import lengths

ROUTES_TABLE = "alert_routes"
DELIVERIES_TABLE = "alert_deliveries"

outbox_metadata = MetaData()
"""Its own metadata: not the read model (rebuilt from the events), not the events."""
routes = Table(
    ROUTES_TABLE,
    outbox_metadata,
    Column("route", String(100), primary_key=True),
    # Flags made at or after this (ISO 8601, +08:00) are delivered by the route.
    Column("since", String(40), nullable=False),
)
deliveries = Table(
    DELIVERIES_TABLE,
    outbox_metadata,
    Column("alert", String(160), primary_key=True),  # order|limit|level|due
    Column("route", String(100), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("order_number", String(lengths.ORDER_NUMBER), nullable=False),
    Column("unit", String(lengths.UNIT_NAME), nullable=False),
    Column("limit_name", String(40), nullable=False),
    Column("level", String(20), nullable=False),
    Column("due_day", Integer, nullable=False),
    Column("message", String(160), nullable=False),  # the stable id of the message it went in
    Column("status", String(10), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False),
    Column("tried", String(40), nullable=False),
    Column("next_try", String(40)),
    Column("response", Text, nullable=False),  # the receiver's own words on a failure
)


@dataclass(frozen=True)
class Alert:
    """A flag as an alert: what a message says about it, and where it is routed by."""

    number: str
    unit: str
    district: str | None
    limit: str
    level: str
    due: date
    at: datetime

    @property
    def key(self) -> str:
        """The stable id (order, limit, level, due): a receiver may drop a repeat by it."""
        return f"{self.number}|{self.limit}|{self.level}|{self.due.isoformat()}"


@dataclass(frozen=True)
class Delivery:
    alert: str
    route: str
    channel: str
    number: str
    unit: str
    limit: str
    level: str
    due: date
    message: str
    status: str
    attempts: int
    tried: datetime
    next_try: datetime | None
    response: str


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if engine.dialect.name == "sqlite":
            create_outbox_tables(engine)

    def writable(self) -> bool:
        """Whether this session may write the outbox: on PostgreSQL only the owner and the
        scheduler's part may (docs/alerts.md), and a send is recorded only after it is made,
        so a role that may not is found out before anything is sent."""
        if self.engine.dialect.name != "postgresql":
            return True
        checks = " AND ".join(
            f"has_table_privilege('{table}', '{right}')"
            for table in (ROUTES_TABLE, DELIVERIES_TABLE)
            for right in ("INSERT", "UPDATE")
        )
        with self.engine.connect() as connection:
            return bool(connection.scalar(text(f"SELECT {checks}")))

    def start(self, route: str, since: datetime) -> datetime:
        """Where `route` starts: as kept, else `since` (kept from now on)."""
        insert = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert
        with self.engine.begin() as connection:
            connection.execute(
                insert(routes)
                .values(route=route, since=since.isoformat())
                .on_conflict_do_nothing(index_elements=[routes.c.route])
            )
            kept = connection.execute(select(routes.c.since).where(routes.c.route == route))
            return datetime.fromisoformat(kept.scalar_one())

    def alerts(self, since: datetime) -> list[Alert]:
        """The flags made at or after `since`, oldest first, with their orders' districts."""
        query = (
            select(orders.c.number, orders.c.unit, orders.c.district, flags.c.limit_name,
                   flags.c.level, flags.c.due_day, flags.c.at)
            .join(orders, orders.c.id == flags.c.id)
            .where(flags.c.at >= since.isoformat())
            .order_by(flags.c.at, orders.c.number, flags.c.version)
        )  # fmt: skip
        with self.engine.connect() as connection:
            return [
                Alert(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    date.fromordinal(r[5]),
                    datetime.fromisoformat(r[6]),
                )
                for r in connection.execute(query)
            ]

    def deliveries(self, route: str | None = None, failed: bool = False) -> list[Delivery]:
        """The deliveries (of `route`; only the failed ones), by when they were tried."""
        query = select(deliveries).order_by(deliveries.c.tried, deliveries.c.alert)
        if route is not None:
            query = query.where(deliveries.c.route == route)
        if failed:
            query = query.where(deliveries.c.status == "failed")
        with self.engine.connect() as connection:
            return [
                Delivery(
                    r.alert,
                    r.route,
                    r.channel,
                    r.order_number,
                    r.unit,
                    r.limit_name,
                    r.level,
                    date.fromordinal(r.due_day),
                    r.message,
                    r.status,
                    r.attempts,
                    datetime.fromisoformat(r.tried),
                    datetime.fromisoformat(r.next_try) if r.next_try else None,
                    r.response,
                )
                for r in connection.execute(query)
            ]

    def record(self, done: Iterable[Delivery]) -> None:
        """Keep the outcome of one message: its alerts' rows, in one transaction."""
        rows = [
            {"alert": d.alert, "route": d.route, "channel": d.channel, "order_number": d.number,
             "unit": d.unit, "limit_name": d.limit, "level": d.level,
             "due_day": d.due.toordinal(), "message": d.message, "status": d.status,
             "attempts": d.attempts, "tried": d.tried.isoformat(),
             "next_try": d.next_try.isoformat() if d.next_try else None,
             "response": d.response}
            for d in done
        ]  # fmt: skip
        if not rows:
            return
        insert = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert
        statement = insert(deliveries)
        statement = statement.on_conflict_do_update(
            index_elements=[deliveries.c.alert, deliveries.c.route],
            set_={
                name: statement.excluded[name]
                for name in ("message", "status", "attempts", "tried", "next_try", "response")
            },
        )
        with self.engine.begin() as connection:
            connection.execute(statement, rows)


def create_outbox_tables(engine: Engine) -> None:
    """Create the outbox's tables if they are not there (for `hotline db init | upgrade`)."""
    outbox_metadata.create_all(engine, checkfirst=True)
