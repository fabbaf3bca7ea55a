"""A PostgreSQL store's own rules: who may change its tables, and whom a role records as.

Only `hotline db init | upgrade`, run by the tables' owner, creates or changes tables; every
other command runs no DDL and refuses, in one line, a database whose tables are missing or
of an older layout (`check_schema`). A role records events under its own name (the session's
`session_user`), or as a person the owner allowed it to speak for: the table
`hotline_actors`, which only the owner writes (`hotline db allow | disallow`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotline.adapters.eventstore import INIT, UPGRADE, SchemaError
from hotline.adapters.readmodel import TRACKING_NAME, metadata, tracking

if TYPE_CHECKING:
    import psycopg

ACTORS = "hotline_actors"
"""(role, actor): the people (录入人) each database role may record as."""
JOB_TABLE = "scheduler_jobs"
"""The scheduler's job store (APScheduler's table)."""


def session_role(connection: psycopg.Connection[Any]) -> str:
    """The database role the session logged in as (SET ROLE does not change it)."""
    row = connection.execute("SELECT session_user").fetchone()
    assert row is not None
    return str(row[0])


def missing_tables(connection: psycopg.Connection[Any], events_table: str) -> list[str]:
    """The tables hotline needs that the database lacks, by the name its queries use."""
    needed = [events_table, ACTORS, JOB_TABLE, *metadata.tables]
    rows = connection.execute(
        "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL", (needed,)
    ).fetchall()
    return [row[0] for row in rows]


def older_read_model(connection: psycopg.Connection[Any]) -> bool:
    """Whether the read model is of an older layout (another tracking name)."""
    names = [row[0] for row in connection.execute(f"SELECT name FROM {tracking.name}")]
    return bool(names) and TRACKING_NAME not in names


def check_schema(connection: psycopg.Connection[Any], events_table: str) -> None:
    """Refuse a database that `hotline db init` has not set up, or whose layout is older than
    this hotline's (`hotline db upgrade`)."""
    missing = missing_tables(connection, events_table)
    if events_table in missing:
        raise SchemaError(f"the store has no hotline tables; {INIT}")
    if missing:
        raise SchemaError(
            f"the store lacks the tables {', '.join(missing)} of this hotline; {UPGRADE}"
        )
    if older_read_model(connection):
        raise SchemaError(f"the store's read model is of an older layout; {UPGRADE}")


def may_record_as(connection: psycopg.Connection[Any], actor: str) -> bool:
    """Whether the session's role may record events as `actor`: the owner allowed it, or the
    role may write `hotline_actors` itself (the owner, who could allow itself anyone)."""
    row = connection.execute(
        f"SELECT has_table_privilege(session_user, '{ACTORS}', 'INSERT') OR EXISTS "
        f"(SELECT FROM {ACTORS} WHERE role = session_user AND actor = %s)",
        (actor,),
    ).fetchone()
    return bool(row and row[0])


def create_tables(connection: psycopg.Connection[Any]) -> None:
    """Create the tables only the owner writes (for `hotline db init | upgrade`)."""
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {ACTORS} "
        "(role name NOT NULL, actor text NOT NULL, PRIMARY KEY (role, actor))"
    )
