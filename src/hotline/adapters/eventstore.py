"""Persistence: the event store's configuration and the pydantic event mapper.

Where events are kept is configuration, not code: a path (or `sqlite:` URL)
selects the embedded SQLite store, a `postgresql://` URL a PostgreSQL database.
The read model (and the scheduler's job) live in the same database as the events.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from hotline.domain.aggregate import DomainEvent
from hotline.domain.errors import HotlineError, one_line

if TYPE_CHECKING:
    import psycopg

DB_ENV = "HOTLINE_DB"


class StoreError(HotlineError):
    """The store cannot be opened or used."""


def default_db_path() -> Path:
    """`$XDG_DATA_HOME/hotline/hotline.db` (usually `~/.local/share/hotline/hotline.db`)."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "hotline" / "hotline.db"


POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
CONNECT_TIMEOUT = 10
"""Seconds to wait for the PostgreSQL server before giving up."""


def store_environment(location: str | None) -> dict[str, str]:
    """The `eventsourcing` environment for a store at `location`.

    `location` is a file path, a `sqlite:///path` URL or a
    `postgresql://user:password@host:port/dbname` URL; None means `$HOTLINE_DB`,
    and failing that the default path.
    """
    location = location or os.environ.get(DB_ENV) or str(default_db_path())
    scheme = location.split("://", 1)[0] if "://" in location else None
    if scheme in POSTGRES_SCHEMES:
        return _postgres_environment(location)
    if location.startswith("sqlite:///"):
        location = location.removeprefix("sqlite:///")
    elif scheme is not None:
        raise StoreError(
            f"store {scheme}:// is not supported; give a SQLite file path or a "
            f"postgresql://user:password@host:port/dbname URL with --db or {DB_ENV}"
        )
    path = Path(location).expanduser()
    if path.is_dir():
        raise StoreError(f"store {path} is a directory; give a file path such as {path}/hotline.db")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise StoreError(
            f"cannot create the store's directory {path.parent}: {error.strerror}"
        ) from None
    return {
        "READ_MODEL_URL": f"sqlite:///{path}",
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def store_name(env: dict[str, str]) -> str:
    """The store `env` configures, as shown to users: a path, or a URL without its password."""
    if "SQLITE_DBNAME" in env:
        return env["SQLITE_DBNAME"]
    return _postgres_url(env).set(drivername="postgresql").render_as_string()


SCHEMA_LOCK = 0x686F746C696E65
"""The PostgreSQL advisory lock held while tables are created: processes creating them at
once would clash ("tuple concurrently updated")."""


def postgres_connection(env: dict[str, str]) -> psycopg.Connection[Any]:
    """A connection of its own (autocommit) to the PostgreSQL store of `env`."""
    import psycopg  # only for PostgreSQL stores: it costs every command's start-up 80 ms

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=CONNECT_TIMEOUT,
        autocommit=True,
    )


@contextmanager
def opening(env: dict[str, str]) -> Iterator[None]:
    """Around opening the store. On PostgreSQL: connect once first, so that a server down, a
    bad password or an unknown database is one clear StoreError (the connection pool would
    only time out), and hold `SCHEMA_LOCK` while the store creates its tables."""
    if "POSTGRES_DBNAME" not in env:
        yield
        return
    from psycopg import Error

    try:
        connection = postgres_connection(env)
    except Error as error:
        raise StoreError(
            f"cannot open the store {store_name(env)}: {one_line(error)}; check --db or {DB_ENV}"
        ) from None
    with connection:  # closing it releases the lock
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        yield


def _postgres_environment(location: str) -> dict[str, str]:
    try:
        url = make_url(location)
    except ArgumentError:
        url = None
    if url is None or not url.database:
        raise StoreError(
            "the store URL is not of the form postgresql://user:password@host:port/dbname; "
            f"check --db or {DB_ENV}"
        )
    if url.query:
        raise StoreError(
            f"the store URL {url.render_as_string()} has options (?…), which hotline does not "
            "take; give postgresql://user:password@host:port/dbname"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database,
        "POSTGRES_HOST": url.host or "localhost",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or getpass.getuser(),
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        # One command at a time (the scheduler's worker besides): a small pool.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "4",
        # Seconds a writer waits for the lock that orders the notification log.
        "POSTGRES_LOCK_TIMEOUT": "30",
        "POSTGRES_PRE_PING": "y",
    }
    read_model = _postgres_url(env).update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    return env | {"READ_MODEL_URL": read_model.render_as_string(hide_password=False)}


def _postgres_url(env: dict[str, str]) -> URL:
    """The SQLAlchemy URL (psycopg 3) of the PostgreSQL database `env` configures."""
    return URL.create(
        "postgresql+psycopg",
        username=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        database=env["POSTGRES_DBNAME"],
    )


_KEYS = {"originator_id", "originator_version"}
"""Kept in the stored event's own columns, not in its JSON state."""


class PydanticMapper(Mapper[Any]):
    """Maps pydantic domain events to JSON stored events and back, validating on read."""

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        assert isinstance(domain_event, DomainEvent)
        data = domain_event.model_dump_json(exclude=_KEYS).encode()
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=data,
        )

    def decode_state(self, data: bytes) -> dict[str, Any]:
        """A stored event's state as plain JSON values (for projections: no validation)."""
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        state: dict[str, Any] = json.loads(data)
        return state

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        event_class = resolve_topic(stored_event.topic)
        state = self.decode_state(stored_event.state)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        event: DomainEventProtocol[Any] = event_class.model_validate(state)
        return event
