"""The store's key, as the store knows it: a fingerprint (never the key) and its rotations.

One aggregate per store, `STORE_KEY_ID`, kept in plaintext beside the events (the mapper
never encrypts it): its first event records the fingerprint of the key the store's events
are encrypted with; a rotation is started (old and new fingerprints) and finished (the new
one is the store's). Every command compares its key's fingerprint with the latest of these
before it reads or writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from hotline.domain.aggregate import Aggregate, CreationEvent, DomainEvent
from hotline.domain.errors import HotlineError

STORE_KEY_ID: UUID = uuid5(NAMESPACE_URL, "https://hotline.invalid/store-key")

Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class StoreKeyError(HotlineError):
    """A key that is not the store's, or a rotation that does not fit the store's key."""


class KeyRecorded(CreationEvent):
    """The store's events are encrypted with the key of this fingerprint (from the first
    encrypted write on)."""

    name = "key_recorded"
    fingerprint: Fingerprint | None
    """None: the store was plaintext until a rotation (`key rotate` with no key before)."""

    def apply(self, key: StoreKey) -> None:
        key.fingerprint = self.fingerprint


class KeyRotationStarted(DomainEvent):
    """Every event is being re-encrypted from the key `old` (None: plaintext) to `new`."""

    name = "key_rotation_started"
    old: Fingerprint | None
    new: Fingerprint

    def apply(self, key: StoreKey) -> None:
        key.rotating_to = self.new


class KeyRotationFinished(DomainEvent):
    """Every event is encrypted with the key `fingerprint`: it is the store's key."""

    name = "key_rotation_finished"
    fingerprint: Fingerprint

    def apply(self, key: StoreKey) -> None:
        key.fingerprint = self.fingerprint
        key.rotating_to = None


class StoreKey(Aggregate):
    """The store's key fingerprint, and the rotation under way if any."""

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.fingerprint: str | None = None
        self.rotating_to: str | None = None

    @classmethod
    def record(cls, fingerprint: str | None, at: datetime) -> StoreKey:
        """The store's first key record (`at`: now)."""
        return cls._create(STORE_KEY_ID, KeyRecorded, at=at, fingerprint=fingerprint)

    def start_rotation(self, at: datetime, new: str) -> None:
        """Start re-encrypting the store with the key of fingerprint `new`: one rotation at a
        time, to another key."""
        if self.rotating_to is not None:
            raise StoreKeyError(f"a rotation to key {short(self.rotating_to)} is under way already")
        if new == self.fingerprint:
            raise StoreKeyError(f"the new key is the store's key already ({short(new)})")
        self._record(self._next(KeyRotationStarted, at=at, old=self.fingerprint, new=new))

    def finish_rotation(self, at: datetime) -> None:
        """Every event is re-encrypted: the new key is the store's."""
        assert self.rotating_to is not None
        self._record(self._next(KeyRotationFinished, at=at, fingerprint=self.rotating_to))


KeyRecorded.aggregate_class = StoreKey


def short(fingerprint: str | None) -> str:
    """A fingerprint as shown to users: its first 8 hex digits."""
    return "none (plaintext)" if fingerprint is None else f"{fingerprint[:8]}…"
