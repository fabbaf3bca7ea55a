"""`hotline db`: a store's tables and roles, managed by the tables' owner.

On PostgreSQL only `init` and `upgrade` run DDL: `init` creates every table, index and type
(the event store's, the read model's, the scheduler's job store, the import ledger, the
alert outbox, `hotline_actors`), and
`upgrade` also replaces a read model of an older layout (dropping its tables) and rebuilds it
from the events. Both may be run again: what is there is kept. Every other command works
with roles that may not create anything: `grant` gives a role its part's rights, `allow`
and `disallow` the people (录入人) it may record as. On SQLite every command creates its
tables itself; `init` and `upgrade` do the same there, and roles do not apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotline.adapters.alert_outbox import create_outbox_tables
from hotline.adapters.eventstore import (
    SCHEMA_LOCK,
    StoreError,
    postgres_connection,
    store_environment,
    store_name,
)
from hotline.adapters.import_ledger import create_ledger_table
from hotline.adapters.postgres import (
    Part,
    allow,
    create_tables,
    disallow,
    grant_statements,
    granted_parts,
    record_part,
    refusing,
)
from hotline.adapters.settings import Settings, read_settings
from hotline.service.application import HotlineApplication, actor_name
from hotline.service.projection import OrderProjection
from hotline.service.scheduler import create_job_table

if TYPE_CHECKING:
    import psycopg
    from eventsourcing.postgres import PostgresApplicationRecorder


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


def prepare(db: Settings | str | None, upgrade: bool = False) -> Prepared:
    """Create whatever of the store's tables is missing, and grant each role its part again;
    with `upgrade`, replace a read model of an older layout and rebuild it (without, such a
    store is refused)."""
    app = SchemaOwner(settings=_settings(db))
    try:
        with refusing("cannot set up the store's tables"):
            rebuilt = app.readmodel.create(upgrade)
            create_job_table(app)
            create_ledger_table(app.readmodel.engine)
            create_outbox_tables(app.readmodel.engine)
            if app.role is not None:  # PostgreSQL
                recorder: PostgresApplicationRecorder = app.recorder  # type: ignore[assignment]
                with _owner_transaction(app) as connection:
                    create_tables(connection, recorder)
                    for role, part in granted_parts(connection).items():
                        for statement in grant_statements(recorder, role, part):
                            connection.execute(statement)
        applied = OrderProjection(app, app.readmodel).catch_up() if rebuilt else None
        return Prepared(store_name(app.env), applied)
    finally:
        app.close()


def grant(db: Settings | str | None, role: str, part: Part, script: bool = False) -> str | None:
    """Give database role `role` exactly the rights of `part` on the store (as the owner);
    with `script`, only the SQL that would, for a DBA to run."""
    app = _postgres(db, "grant")
    try:
        recorder: PostgresApplicationRecorder = app.recorder  # type: ignore[assignment]
        statements = grant_statements(recorder, role, part)
        with (
            refusing(f"cannot grant {role} the part of {part}"),
            _owner_transaction(app) as connection,
        ):
            if script:
                return "".join(f"{s.as_string(connection)};\n" for s in statements)
            for statement in statements:
                connection.execute(statement)
            record_part(connection, role, part)
        return None
    finally:
        app.close()


def permit(db: Settings | str | None, role: str, actor: str, allowed: bool) -> bool:
    """Let database role `role` record as the person `actor`, or (not `allowed`) stop it;
    False if that was already so."""
    app = _postgres(db, "allow" if allowed else "disallow")
    name = actor_name(actor)
    try:
        with (
            refusing(f"cannot change whom {role} may record as"),
            _owner_transaction(app) as connection,
        ):
            return (allow if allowed else disallow)(connection, role, name)
    finally:
        app.close()


def _settings(db: Settings | str | None) -> Settings:
    """The command's settings, or the environment's with the store at `db` (for scripts)."""
    return db if isinstance(db, Settings) else read_settings().given(db=db)


def _postgres(db: Settings | str | None, command: str) -> HotlineApplication:
    settings = _settings(db)
    if "POSTGRES_DBNAME" not in store_environment(settings):
        raise StoreError(
            f"`hotline db {command}` is for PostgreSQL stores: on SQLite every event is "
            "recorded by the operating-system user"
        )
    return HotlineApplication(settings=settings)


@contextmanager
def _owner_transaction(app: HotlineApplication) -> Iterator[psycopg.Connection[Any]]:
    """A transaction on a connection of its own, holding `SCHEMA_LOCK`."""
    with postgres_connection(app.env) as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        yield connection
