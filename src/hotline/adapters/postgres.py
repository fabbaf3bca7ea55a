"""A PostgreSQL store's own rules: who may change its tables, and whom a role records as.

Only `hotline db init | upgrade`, run by the tables' owner, creates or changes tables; every
other command runs no DDL and refuses, in one line, a database whose tables are missing or
of an older layout (`check_schema`). A role records events under its own name (the session's
`session_user`), or as a person the owner allowed it to speak for: the table
`hotline_actors`, which only the owner writes (`hotline db allow | disallow`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hotline.adapters.alert_outbox import outbox_metadata
from hotline.adapters.eventstore import INIT, UPGRADE, SchemaError, StoreError
from hotline.adapters.import_ledger import LEDGER_TABLES
from hotline.adapters.readmodel import metadata, older_layout, tracking
from hotline.domain.errors import one_line

if TYPE_CHECKING:
    import psycopg
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import sql

ACTORS = "hotline_actors"
"""(role, actor): the people (录入人) each database role may record as."""
ROLES = "hotline_roles"
"""(role, part): the part each role was granted (`hotline db grant`), granted again after an
upgrade remakes tables."""
RECORDED_BY = "recorded_by"
"""The event table's column the append function fills with the session's role: the server's
word on who stored each event (NULL on events stored before `hotline db upgrade` added it)."""
JOB_TABLE = "scheduler_jobs"
"""The scheduler's job store (APScheduler's table)."""


@contextmanager
def refusing(what: str) -> Iterator[None]:
    """A database error inside (a role that does not exist, a privilege missing) as one line:
    `what` could not be done, and why."""
    from psycopg import Error, errors

    try:
        yield
    except Error as error:
        hint = (
            "; the database owner grants a role its part with `hotline db grant ROLE --as PART`"
            if isinstance(error, errors.InsufficientPrivilege)
            else ""
        )
        raise StoreError(f"{what}: {one_line(error)}{hint}") from None


def session_role(connection: psycopg.Connection[Any]) -> str:
    """The database role the session logged in as (SET ROLE does not change it)."""
    row = connection.execute("SELECT session_user").fetchone()
    assert row is not None
    return str(row[0])


def missing_tables(connection: psycopg.Connection[Any], events_table: str) -> list[str]:
    """The tables (and the event table's `recorded_by` column) hotline needs that the database
    lacks, by the name its queries use."""
    needed = [events_table, ACTORS, ROLES, JOB_TABLE, *metadata.tables]
    rows = connection.execute(
        "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL "
        "UNION ALL SELECT %s WHERE to_regclass(%s) IS NOT NULL AND NOT EXISTS (SELECT FROM "
        f"pg_attribute WHERE attrelid = to_regclass(%s) AND attname = '{RECORDED_BY}' "
        "AND NOT attisdropped)",
        (needed, f"{events_table}.{RECORDED_BY}", events_table, events_table),
    ).fetchall()
    return [row[0] for row in rows]


def older_read_model(connection: psycopg.Connection[Any]) -> bool:
    """Whether the read model is of an older layout (another tracking name)."""
    return older_layout([row[0] for row in connection.execute(f"SELECT name FROM {tracking.name}")])


def check_schema(connection: psycopg.Connection[Any], events_table: str) -> None:
    """Refuse a database that `hotline db init` has not set up, or whose layout is older than
    this hotline's (`hotline db upgrade`)."""
    missing = missing_tables(connection, events_table)
    if events_table in missing:
        raise SchemaError(f"the store has no hotline tables; {INIT}")
    if missing:
        raise SchemaError(f"the store lacks {', '.join(missing)}, of a newer layout; {UPGRADE}")
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


def create_tables(
    connection: psycopg.Connection[Any], recorder: PostgresApplicationRecorder
) -> None:
    """Create the tables only the owner writes, and make the event store's append function
    the one way to add events (for `hotline db init | upgrade`, after eventsourcing made its
    tables).

    eventsourcing's insert takes the event table's EXCLUSIVE lock (so that notification ids
    commit in order and a follower never skips one), which PostgreSQL grants only with
    UPDATE, DELETE or TRUNCATE on the table. So events are appended by eventsourcing's
    database function instead (`POSTGRES_ENABLE_DB_FUNCTIONS`), replaced here by one that
    takes the lock itself and runs as the owner (SECURITY DEFINER): a role granted EXECUTE
    on it may append events, and nothing else; nobody else may."""
    from psycopg import sql

    connection.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} "
            "(role name NOT NULL, actor text NOT NULL, PRIMARY KEY (role, actor))"
        ).format(sql.Identifier(ACTORS))
    )
    connection.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {} (role name PRIMARY KEY, part text NOT NULL)").format(
            sql.Identifier(ROLES)
        )
    )
    schema = sql.Identifier(recorder.datastore.schema)
    table = sql.Identifier(recorder.events_table_name)
    column = sql.Identifier(RECORDED_BY)
    # No default while adding it: the events already there would all get the owner's name.
    connection.execute(
        sql.SQL("ALTER TABLE {}.{} ADD COLUMN IF NOT EXISTS {} name").format(schema, table, column)
    )
    connection.execute(
        sql.SQL("ALTER TABLE {}.{} ALTER COLUMN {} SET DEFAULT session_user").format(
            schema, table, column
        )
    )
    function = _append_function(recorder)
    connection.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {function}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER "
            "SET search_path = pg_catalog, pg_temp SET lock_timeout = {timeout} AS $$ BEGIN "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state, {column}) "
            "SELECT e.originator_id, e.originator_version, e.topic, e.state, session_user "
            "FROM unnest(events) e RETURNING notification_id; "
            "END $$"
        ).format(
            function=function,
            schema=schema,
            event=sql.Identifier(recorder.stored_event_type_name),
            timeout=sql.Literal(f"{recorder.datastore.lock_timeout}s"),
            table=table,
            column=column,
            channel=sql.Identifier(recorder.channel_name),
        )
    )
    connection.execute(sql.SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC").format(function))


def _append_function(recorder: PostgresApplicationRecorder) -> sql.Composed:
    from psycopg import sql

    return sql.SQL("{}.{}").format(
        sql.Identifier(recorder.datastore.schema),
        sql.Identifier(recorder.pg_function_name_insert_events),
    )


class Part(StrEnum):
    """What a database role does in a deployment (`hotline db grant ROLE --as PART`)."""

    OPERATOR = "operator"
    """Records events (every command), catches the read model up."""
    SCHEDULER = "scheduler"
    """An operator that also keeps the scheduler's job and delivers the alerts (the outbox)."""
    IMPORTER = "importer"
    """Imports files: the operator's rights, under a role of its own."""
    READER = "reader"
    """Reads (reports, audit, alerts) and catches the read model up; records nothing."""


def grant_statements(
    recorder: PostgresApplicationRecorder, role: str, part: Part
) -> list[sql.Composed]:
    """What gives `role` exactly the rights of `part` (taking back any others first): SELECT on
    the event table and the owner's tables; appending events through the append function
    and keeping the import ledger (not the reader, who does not see the ledger); reading and
    writing the read model (catching up writes it); writing the scheduler's job (the
    scheduler). Never UPDATE, DELETE or TRUNCATE of the events."""
    from psycopg import sql

    who = sql.Identifier(role)
    events = sql.SQL("{}.{}").format(
        sql.Identifier(recorder.datastore.schema), sql.Identifier(recorder.events_table_name)
    )
    owner_tables = sql.SQL(", ").join([events, *(sql.Identifier(name) for name in (ACTORS, ROLES))])
    read_model = sql.SQL(", ").join(sql.Identifier(name) for name in metadata.tables)
    job = sql.Identifier(JOB_TABLE)
    ledger = sql.SQL(", ").join(sql.Identifier(name) for name in LEDGER_TABLES)
    outbox = sql.SQL(", ").join(sql.Identifier(name) for name in outbox_metadata.tables)
    statements = [
        sql.SQL("REVOKE ALL ON {}, {}, {}, {}, {} FROM {}").format(
            owner_tables, read_model, job, ledger, outbox, who
        ),
        sql.SQL("REVOKE ALL ON FUNCTION {} FROM {}").format(_append_function(recorder), who),
        sql.SQL("GRANT SELECT ON {}, {}, {} TO {}").format(owner_tables, job, outbox, who),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(read_model, who),
    ]
    if part is not Part.READER:
        statements += [
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(_append_function(recorder), who),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(ledger, who),
        ]
    if part is Part.SCHEDULER:  # keeps its job and delivers the alerts
        statements.append(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {}, {} TO {}").format(job, outbox, who)
        )
    return statements


def record_part(connection: psycopg.Connection[Any], role: str, part: Part) -> None:
    """Keep `role`'s part, to grant it again after an upgrade."""
    connection.execute(
        f"INSERT INTO {ROLES} (role, part) VALUES (%s, %s) "
        "ON CONFLICT (role) DO UPDATE SET part = excluded.part",
        (role, part.value),
    )


def granted_parts(connection: psycopg.Connection[Any]) -> dict[str, Part]:
    """Each role's part, as granted (of the roles that still exist)."""
    rows = connection.execute(
        f"SELECT role, part FROM {ROLES} WHERE role IN (SELECT rolname FROM pg_roles)"
    )
    return {row[0]: Part(row[1]) for row in rows}


def allow(connection: psycopg.Connection[Any], role: str, actor: str) -> bool:
    """Let `role` record as `actor`; False if it already could."""
    found = connection.execute("SELECT FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if found is None:
        raise StoreError(f"there is no database role {role}; create it first (createuser)")
    done = connection.execute(
        f"INSERT INTO {ACTORS} (role, actor) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (role, actor),
    )
    return done.rowcount == 1


def disallow(connection: psycopg.Connection[Any], role: str, actor: str) -> bool:
    """Stop `role` recording as `actor`; False if it could not."""
    done = connection.execute(f"DELETE FROM {ACTORS} WHERE role = %s AND actor = %s", (role, actor))
    return done.rowcount == 1


def stored_roles(recorder: PostgresApplicationRecorder, *, first: int, last: int) -> dict[int, str]:
    """The role the server recorded for each notification `first` … `last` that has one."""
    return _roles(
        recorder,
        "notification_id",
        f"notification_id BETWEEN %s AND %s AND {RECORDED_BY} IS NOT NULL",
        (first, last),
    )


def stored_roles_of(recorder: PostgresApplicationRecorder, originator_id: Any) -> dict[int, str]:
    """The role the server recorded for each event (by version) of one aggregate."""
    return _roles(
        recorder,
        "originator_version",
        f"originator_id = %s AND {RECORDED_BY} IS NOT NULL",
        (originator_id,),
    )


def _roles(
    recorder: PostgresApplicationRecorder, key: str, where: str, params: tuple[Any, ...]
) -> dict[int, str]:
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    with recorder.datastore.get_connection() as connection:
        rows = connection.execute(
            f"SELECT {key}, {RECORDED_BY} FROM {table} WHERE {where}",
            params,
        ).fetchall()
    return {row[key]: row[RECORDED_BY] for row in rows}
