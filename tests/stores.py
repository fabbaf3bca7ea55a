"""Stores for the tests: a fresh PostgreSQL database per test when $HOTLINE_TEST_POSTGRES is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from hotline.service.application import HotlineApplication
from hotline.service.database import prepare

POSTGRES_ENV = "HOTLINE_TEST_POSTGRES"
"""A PostgreSQL server's URL (`scripts/postgres` prints one); unset: the tests use SQLite."""


def postgres_server() -> str | None:
    """The server's URL without its password, which goes to $PGPASSWORD, as in a deployment
    (a password in `--db` is shown by `ps`)."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        return None
    url = make_url(server)
    if url.password is not None:
        os.environ.setdefault("PGPASSWORD", str(url.password))
    return url._replace(password=None).render_as_string(hide_password=False)


@contextmanager
def fresh_database(server: str, init: bool = True) -> Iterator[str]:
    """A new database on `server` (a URL naming any database), dropped afterwards; with
    `init`, its tables made by `hotline db init` as the server URL's role (their owner)."""
    url = make_url(server).set(drivername="postgresql")
    name = f"hotline_test_{uuid4().hex[:16]}"
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        fresh = url.set(database=name).render_as_string(hide_password=False)
        if init:
            prepare(fresh)
        yield fresh
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )


def stored_events(location: str) -> int:
    """How many events the store at `location` (a SQLite path or a URL) holds."""
    app = HotlineApplication(db=location)
    try:
        return len(app.recorder.select_notifications(None, 1_000_000_000))
    finally:
        app.close()
