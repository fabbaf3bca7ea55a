"""`hotline db`: a store's tables, created and upgraded by their owner.

On PostgreSQL only `init` and `upgrade` run DDL: `init` creates every table, index and type
(the event store's, the read model's, the scheduler's job store, `hotline_actors`), and
`upgrade` also replaces a read model of an older layout (dropping its tables) and rebuilds it
from the events. Both may be run again: what is there is kept. Every other command works
with roles that may not create anything. On SQLite every command creates its tables itself;
`init` and `upgrade` do the same there.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.adapters.eventstore import SCHEMA_LOCK, postgres_connection, store_name
from hotline.adapters.postgres import create_tables
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from hotline.service.scheduler import create_job_table


class SchemaOwner(HotlineApplication):
    """The application as the tables' owner: it creates the event store's tables."""

    name = HotlineApplication.name  # eventsourcing would name its tables after the class
    creates_schema = True


@dataclass(frozen=True)
class Prepared:
    """What `init` or `upgrade` did to the store."""

    store: str
    rebuilt: int | None
    """Events applied to a read model rebuilt in a new layout (None: it was current)."""


def prepare(db: str | None, upgrade: bool = False) -> Prepared:
    """Create whatever of the store's tables is missing; with `upgrade`, replace a read model
    of an older layout and rebuild it (without, such a store is refused)."""
    app = SchemaOwner(db)
    try:
        if app.role is not None:  # PostgreSQL
            with postgres_connection(app.env) as connection, connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                create_tables(connection)
        rebuilt = app.readmodel.create(upgrade)
        create_job_table(app)
        applied = OrderProjection(app, app.readmodel).catch_up() if rebuilt else None
        return Prepared(store_name(app.env), applied)
    finally:
        app.close()
