"""Persistence: the event store's configuration and the pydantic event mapper.

Where events are kept is configuration, not code: a path (or `sqlite:` URL)
selects the embedded SQLite store, a `postgresql://` URL a PostgreSQL database.
The read model (and the scheduler's job) live in the same database as the events.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
from base64 import b64decode
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from hotline.adapters.settings import DB_ENV, KEY_ENV, KEY_FILE_ENV, Settings
from hotline.domain.aggregate import STORED, DomainEvent, link
from hotline.domain.errors import HotlineError, one_line
from hotline.domain.store_key import STORE_KEY_ID

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import URL

CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"
KEY_SOURCE = "KEY_SOURCE"
"""The store environment's entry naming where its key came from (`HOTLINE_KEY`, or
`HOTLINE_KEY_FILE path`), for messages."""
ENCRYPTED = b"\x00hotline-aes1\x00"
"""Starts every encrypted state. JSON never starts with a NUL byte, so a store can hold the
plaintext events written before a key was configured beside encrypted ones."""


class StoreError(HotlineError):
    """The store cannot be opened or used."""


NO_KEY = f"the store holds encrypted events; set {KEY_ENV} or {KEY_FILE_ENV} to the store's key"


class SchemaError(StoreError):
    """A PostgreSQL store's tables are missing or of an older layout."""


INIT = "run `hotline db init` as the database owner"
UPGRADE = "run `hotline db upgrade` as the database owner"


POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
CONNECT_TIMEOUT = 10
"""Seconds to wait for the PostgreSQL server before giving up."""
LOCK_TIMEOUT = 30
"""Seconds a writer waits for a lock another process holds on the store."""


def store_environment(settings: Settings) -> dict[str, str]:
    """The `eventsourcing` environment for the store `settings.db` names, with its key.

    The store is a file path, a `sqlite:///path` URL or a
    `postgresql://user[:password]@host:port/dbname` URL (without a password, libpq finds it).
    """
    key, source = configured_key(settings) or ("", "")
    cipher = {"CIPHER_TOPIC": CIPHER_TOPIC if key else "", "CIPHER_KEY": key, KEY_SOURCE: source}
    location = settings.db
    scheme = location.split("://", 1)[0] if "://" in location else None
    if scheme in POSTGRES_SCHEMES:
        return _postgres_environment(location) | cipher
    if location.startswith("sqlite:///"):
        location = location.removeprefix("sqlite:///")
    elif scheme is not None:
        raise StoreError(
            f"store {scheme}:// is not supported; give a SQLite file path or a "
            f"postgresql://user@host:port/dbname URL with --db or {DB_ENV}"
        )
    path = Path(location).expanduser()
    if path.is_dir():
        raise StoreError(f"store {path} is a directory; give a file path such as {path}/hotline.db")
    try:
        missing = [folder for folder in path.parents if not folder.exists()]
        for folder in reversed(missing):  # each owner-only: `parents=True` makes them 0777
            folder.mkdir(mode=0o700, exist_ok=True)  # less the umask
    except OSError as error:
        raise StoreError(
            f"cannot create the store's directory {path.parent}: {error.strerror}"
        ) from None
    _create_owner_only(path)
    return cipher | {
        "READ_MODEL_URL": f"sqlite:///{path}",
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": str(LOCK_TIMEOUT),
    }


def _create_owner_only(path: Path) -> None:
    """Create a new SQLite store's file readable by its owner only (SQLite gives the -wal and
    -shm files the same mode). An existing file is left as it is: several processes may open
    a new store at once."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise StoreError(f"cannot create the store {path}: {error.strerror}") from None


def configured_key(settings: Settings) -> tuple[str, str] | None:
    """The store's key and where it came from (`HOTLINE_KEY`, or `HOTLINE_KEY_FILE path`),
    from `$HOTLINE_KEY` or the file named by `$HOTLINE_KEY_FILE`; None when neither is set.
    A malformed or empty key, or a key file others may read, is refused: an empty key never
    means "no encryption"."""
    key, key_file = settings.key, settings.key_file
    if key is not None and key_file is not None:
        raise StoreError(f"both {KEY_ENV} and {KEY_FILE_ENV} are set; unset one of them")
    if key_file is not None:
        source = f"{KEY_FILE_ENV} {key_file}"
        return key_from_file(Path(key_file).expanduser(), source), source
    if key is not None:
        return valid_key(key, KEY_ENV), KEY_ENV
    return None


def key_from_file(path: Path, source: str) -> str:
    """The key in the file `path` (named `source` in messages), checked by `valid_key`."""
    return valid_key(_read_key_file(path, source), source)


def valid_key(key: str, source: str) -> str:
    """`key` (from `source`, as named in messages) without surrounding spaces; refused unless
    it is the base64 of 16, 24 or 32 bytes."""
    key = key.strip()
    if not key:
        raise StoreError(
            f"{source} is empty; give the store's key, or unset it for a store without "
            "encryption (make a key with `hotline key generate`)"
        )
    from eventsourcing.cryptography import AESCipher  # only with a key: it costs 30 ms

    try:
        size = len(b64decode(key, validate=True))
    except ValueError:
        size = 0
    if size not in AESCipher.KEY_SIZES:
        raise StoreError(
            f"{source} is not a key (the base64 of 16, 24 or 32 bytes); "
            "make one with `hotline key generate`"
        )
    return key


def _read_key_file(path: Path, source: str) -> str:
    """The key in `path`, refused (as ssh does) if its group or others have any access."""
    try:
        with path.open("rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            if mode & 0o077:
                raise StoreError(
                    f"{source} is open to group or others (mode "
                    f"{mode & 0o777:04o}); make it owner-only with chmod 600 {path}"
                )
            return file.read().decode("ascii", errors="replace")
    except OSError as error:
        raise StoreError(f"cannot read {source}: {error.strerror}") from None


_FULL = "the disk holding the store is full; free some space and run the command again"
_LOCKED = (
    "the store is locked by another {holder}, which held it longer than hotline waits "
    "({timeout} s); run the command again when it is done"
)
_LOST = (
    "lost the connection to the store's PostgreSQL server ({reason}); what was not committed "
    "is not written: run the command again"
)
_SQLITE_FAILURES = {
    sqlite3.SQLITE_READONLY: "the store is read-only (its file, its folder or its disk); make "
    f"them writable for this user, or give another store with --db or {DB_ENV}",
    sqlite3.SQLITE_FULL: _FULL,
    sqlite3.SQLITE_IOERR_SHMSIZE: _FULL,  # its -shm file could not grow
    sqlite3.SQLITE_BUSY: _LOCKED,
    sqlite3.SQLITE_LOCKED: _LOCKED,
    sqlite3.SQLITE_CANTOPEN: "cannot open the store's file (its folder or disk may be "
    f"read-only or gone); check --db or {DB_ENV}",
    sqlite3.SQLITE_IOERR: "the disk holding the store failed to read or write; check the disk "
    "and run the command again",
    sqlite3.SQLITE_CORRUPT: "the store's file is damaged; restore it from a backup",
    sqlite3.SQLITE_NOTADB: f"the store's file is not a database; check --db or {DB_ENV}",
}
"""By SQLite's error code (extended, else primary): what is wrong with the store."""
_POSTGRES_FAILURES = {
    "08": _LOST,  # connection exceptions
    "57P": _LOST,  # the server shut down, or terminated the session
    "53": "the store's PostgreSQL server is out of resources ({reason}); free disk space or "
    "memory on it and run the command again",
    "25006": "the store's PostgreSQL server is read-only (a standby, or read-only "
    f"transactions by default); give the primary server with --db or {DB_ENV}",
    "55P03": _LOCKED,  # lock_timeout
    "57014": _LOCKED,  # statement_timeout
}
"""By SQLSTATE (or its class): what a PostgreSQL error says is wrong with the store."""


def store_failure(error: BaseException) -> StoreError | None:
    """What `error` (raised by SQLite or PostgreSQL, possibly wrapped by SQLAlchemy or
    eventsourcing) says is wrong with the store (read-only, full, locked, unreachable), as one
    line without SQL; None if it is not such an error (a bug stays an internal error)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, StoreError):
            return cause
        if isinstance(cause, sqlite3.Error):
            code = getattr(cause, "sqlite_errorcode", -1)
            message = _SQLITE_FAILURES.get(code) or _SQLITE_FAILURES.get(code & 0xFF)
            if message is None:
                return None
            return StoreError(message.format(holder="process", timeout=LOCK_TIMEOUT))
        psycopg = sys.modules.get("psycopg")  # never imported for a SQLite store
        if psycopg is not None and isinstance(cause, psycopg.Error):
            return _postgres_failure(cause)
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__
    return None


def _postgres_failure(error: psycopg.Error) -> StoreError | None:
    import psycopg

    state = error.sqlstate or ""
    if not state and isinstance(error, psycopg.OperationalError):
        state = "08"  # no answer from the server: the connection is gone
    for prefix in (state, state[:3], state[:2]):
        if prefix and prefix in _POSTGRES_FAILURES:
            reason = error.diag.message_primary or " ".join(str(error).split()[:12])
            return StoreError(
                _POSTGRES_FAILURES[prefix].format(
                    reason=reason.strip(), holder="session", timeout=LOCK_TIMEOUT
                )
            )
    return None


def store_name(env: dict[str, str]) -> str:
    """The store `env` configures, as shown to users: a path, or a URL without its password."""
    if "SQLITE_DBNAME" in env:
        return env["SQLITE_DBNAME"]
    return _postgres_url(env).set(drivername="postgresql").render_as_string()


SCHEMA_LOCK = 0x686F746C696E65
"""The PostgreSQL advisory lock held while `hotline db init|upgrade` creates or changes the
tables: processes creating them at once would clash ("tuple concurrently updated")."""


def postgres_connection(env: dict[str, str]) -> psycopg.Connection[Any]:
    """A connection of its own (autocommit) to the PostgreSQL store of `env`."""
    import psycopg  # only for PostgreSQL stores: it costs every command's start-up 80 ms

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,  # None: libpq's own (PGPASSWORD, ~/.pgpass)
        connect_timeout=CONNECT_TIMEOUT,
        autocommit=True,
    )


@contextmanager
def opening(
    env: dict[str, str], schema_lock: bool = False
) -> Iterator[psycopg.Connection[Any] | None]:
    """Around opening the store. On PostgreSQL: connect once first, so that a server down, a
    bad password or an unknown database is one clear StoreError (the connection pool would
    only time out), and give that connection (with `schema_lock`, holding `SCHEMA_LOCK`). On
    SQLite: put the file in WAL mode first (`_wal_mode`), and give None."""
    if "POSTGRES_DBNAME" not in env:
        _wal_mode(env)
        yield None
        return
    from psycopg import Error

    try:
        connection = postgres_connection(env)
    except Error as error:
        raise StoreError(
            f"cannot open the store {store_name(env)}: {one_line(error)}; check --db or {DB_ENV}"
        ) from None
    with connection:  # closing it releases the lock
        if schema_lock:
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        yield connection


LOCKED_WAIT = 30.0
"""Seconds to wait for a new SQLite store that other processes are setting up."""


def _wal_mode(env: dict[str, str]) -> None:
    """Put the SQLite store in WAL mode, waiting up to `LOCKED_WAIT` seconds while it is locked.

    eventsourcing does it on its first connection, but SQLite does not wait for a busy lock to
    change the journal mode: processes opening a new store at once failed with "database is
    locked". Once the file is in WAL mode, eventsourcing leaves it as it is."""
    deadline = time.monotonic() + LOCKED_WAIT
    connection = sqlite3.connect(env["SQLITE_DBNAME"], timeout=LOCKED_WAIT, isolation_level=None)
    try:
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot open the store {store_name(env)}: another process kept it "
                        f"locked for {LOCKED_WAIT:g} s; try again"
                    ) from None
            time.sleep(0.01)
    finally:
        connection.close()


def _postgres_environment(location: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url  # for PostgreSQL stores: a SQLite one needs none
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(location)
    except ArgumentError:
        url = None
    if url is None or not url.database:
        raise StoreError(
            "the store URL is not of the form postgresql://user@host:port/dbname; "
            f"check --db or {DB_ENV}"
        )
    if url.query:
        raise StoreError(
            f"the store URL {url.render_as_string()} has options (?…), which hotline does not "
            "take; give postgresql://user@host:port/dbname"
        )
    no_password = {} if url.password else {"POSTGRES_GET_PASSWORD_TOPIC": get_topic(libpq_password)}
    env = no_password | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database,
        "POSTGRES_HOST": url.host or "localhost",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or getpass.getuser(),
        "POSTGRES_PASSWORD": url.password or "",
        # No DDL: only `hotline db init|upgrade`, run by the tables' owner, creates tables.
        "CREATE_TABLE": "no",
        # Events are appended through the owner's function (`postgres.create_tables`).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "yes",
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        # One command at a time (the scheduler's worker besides): a small pool.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "4",
        # Seconds a writer waits for the lock that orders the notification log.
        "POSTGRES_LOCK_TIMEOUT": str(LOCK_TIMEOUT),
        "POSTGRES_PRE_PING": "y",
    }
    read_model = _postgres_url(env).update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    return env | {"READ_MODEL_URL": read_model.render_as_string(hide_password=False)}


def libpq_password() -> str | None:
    """No password, for eventsourcing's connections to a store whose URL has none: libpq then
    finds it itself ($PGPASSWORD, ~/.pgpass or $PGPASSFILE, the $PGSERVICE entry). (Given as
    "", it would skip $PGPASSWORD.)"""
    return None


def password_in(location: str) -> bool:
    """Whether the store `location` names carries a password (a PostgreSQL URL's)."""
    if "://" not in location:
        return False
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(location).password is not None
    except ArgumentError:
        return False


def _postgres_url(env: dict[str, str]) -> URL:
    """The SQLAlchemy URL (psycopg 3) of the PostgreSQL database `env` configures."""
    from sqlalchemy.engine import URL

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
    """Maps pydantic domain events to JSON stored events and back, validating on read.

    With a cipher (a key configured), states are encrypted and marked `ENCRYPTED`, except the
    store key's own record (`STORE_KEY_ID`: its fingerprints are read before any key is
    checked); unmarked states are plaintext JSON, read with or without a key. Each event's
    `link` is of its plaintext JSON, so re-encrypting an event with another key keeps its
    chain."""

    key_source = KEY_ENV
    """Where the cipher's key came from, for messages (the application sets it)."""

    def seal(self, domain_event: DomainEvent) -> str:
        """The event's state as it will be stored, kept on the event; its `link` (a `Seal`)."""
        state = domain_event.model_dump_json(exclude=_KEYS).encode()
        domain_event.keep(state=state)
        return link(
            domain_event.originator_id,
            domain_event.originator_version,
            get_topic(type(domain_event)),
            state,
        )

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        assert isinstance(domain_event, DomainEvent)
        data = domain_event.stored_state() or domain_event.model_dump_json(exclude=_KEYS).encode()
        if self.cipher and domain_event.originator_id != STORE_KEY_ID:
            data = self.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=data,
        )

    def encrypt(self, data: bytes) -> bytes:
        """A state's plaintext bytes, encrypted and marked."""
        assert self.cipher is not None
        return ENCRYPTED + self.cipher.encrypt(data)

    def plaintext(self, data: bytes) -> bytes:
        """A stored state's plaintext JSON (decrypted if it is encrypted): what `encrypt` was
        given, and what `link` covers. (The store is never compressed: `store_environment`
        sets no compressor.)"""
        return self._decrypt(data[len(ENCRYPTED) :]) if data.startswith(ENCRYPTED) else data

    def _decrypt(self, data: bytes) -> bytes:
        if self.cipher is None:
            raise StoreError(NO_KEY)
        try:
            return self.cipher.decrypt(data)
        except ValueError:
            raise StoreError(
                f"{self.key_source} is not this store's key (its events cannot be decrypted); "
                f"set {KEY_ENV} or {KEY_FILE_ENV} to the key the store was written with"
            ) from None

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        event_class = resolve_topic(stored_event.topic)
        plaintext = self.plaintext(stored_event.state)
        state = json.loads(plaintext)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        event: DomainEvent = event_class.model_validate(state, context=STORED)
        event.keep(
            link=link(event.originator_id, event.originator_version, stored_event.topic, plaintext)
        )
        return event


def fingerprint(key: str) -> str:
    """A key's fingerprint, kept in the store (never the key): HMAC-SHA256 of a fixed label
    under the key, its first 128 bits in hex."""
    digest = hmac.new(b64decode(key), b"hotline store key fingerprint", hashlib.sha256)
    return digest.hexdigest()[:32]
