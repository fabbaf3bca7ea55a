"""Persistence: the event store's configuration and the pydantic event mapper.

Where events are kept is configuration, not code: a path (or `sqlite:` URL)
selects the embedded SQLite store; other backends plug in here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from hotline.domain.aggregate import DomainEvent
from hotline.domain.errors import HotlineError

DB_ENV = "HOTLINE_DB"


class StoreError(HotlineError):
    """The store cannot be opened or used."""


def default_db_path() -> Path:
    """`$XDG_DATA_HOME/hotline/hotline.db` (usually `~/.local/share/hotline/hotline.db`)."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "hotline" / "hotline.db"


def store_environment(location: str | None) -> dict[str, str]:
    """The `eventsourcing` environment for a store at `location`.

    `location` is a file path or a `sqlite:///path` URL; None means
    `$HOTLINE_DB`, and failing that the default path.
    """
    location = location or os.environ.get(DB_ENV) or str(default_db_path())
    if location.startswith("sqlite:///"):
        location = location.removeprefix("sqlite:///")
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise StoreError(
            f"store {scheme}:// is not supported yet; give a SQLite file path with --db or {DB_ENV}"
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
