"""Key rotation: every event re-encrypted, in place, from the store's key to a new one.

The rotation is recorded first (`KeyRotationStarted`, both fingerprints), then the events are
rewritten in batches of one transaction each, then it is recorded finished. Each event's
plaintext bytes stay exactly as they were; only their encryption changes. Killed at any
point, the same command run again finishes the job: an event the new key already decrypts
is left as it is. An event neither key decrypts (written with another key before hotline
checked keys) is left as it is too, and reported. While the rotation is under way every
other command is refused, so no event is written with either key; each event is always
readable with one of the pair.

Plaintext events (written before any key) are encrypted with the new key too: rotating a
store without a key to one encrypts it throughout. The read model, whose free texts are
sealed with the key, is emptied, and the next command rebuilds it under the new key. A
SQLite file is then compacted (`compact`), so that its free pages keep no old state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from hotline.adapters.eventstore import ENCRYPTED, PydanticMapper, StoreError, fingerprint
from hotline.adapters.stored_states import Rewrite, compact, rewrite_states
from hotline.domain.aggregate import now
from hotline.domain.store_key import STORE_KEY_ID, StoreKey, StoreKeyError, short
from hotline.service.application import HotlineApplication

BATCH_SIZE = 2_000
Progress = Callable[[int, int], None]
"""Called with (notifications gone through, head of the log) after each batch."""


@dataclass(frozen=True)
class Rotation:
    """A finished rotation: from the key `old` (None: plaintext) to `new`, and how many
    events it rewrote now (`rewritten`) or found rewritten by an earlier run (`already`)."""

    old: str | None
    new: str
    rewritten: int
    already: int
    unreadable: list[tuple[UUID | str, int]]
    """The (aggregate id, version) of the events neither key decrypts (written with another
    key before hotline checked it), left as they were."""


def rotate_key(
    app: HotlineApplication,
    new_key: str,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> Rotation:
    """Re-encrypt every event of `app`'s store (opened with `rotating=True` and the store's
    current key, or no key for a store without one) with `new_key`, or finish the rotation
    to it that was under way."""
    new = fingerprint(new_key)
    record = _started(app, new)
    old_mapper = app.store_mapper
    new_mapper = PydanticMapper(
        old_mapper.transcoder, cipher=AESCipher(Environment(env={"CIPHER_KEY": new_key}))
    )
    assert new_mapper.cipher is not None
    head = int(app.recorder.max_notification_id() or 0)
    rewritten = already = position = 0
    unreadable: list[tuple[UUID | str, int]] = []
    while batch := app.recorder.select_notifications(
        start=position, limit=batch_size, inclusive_of_start=False
    ):
        rewrites: list[Rewrite] = []
        for notification in batch:
            state = notification.state
            if notification.originator_id == STORE_KEY_ID:
                continue
            if state.startswith(ENCRYPTED) and _decrypts(new_mapper, state):
                already += 1
                continue
            try:
                plaintext = old_mapper.plaintext(state)
            except StoreError:
                unreadable.append((notification.originator_id, notification.originator_version))
                continue
            rewrites.append(
                (
                    notification.originator_id,
                    notification.originator_version,
                    new_mapper.encrypt(plaintext),
                )
            )
        rewrite_states(app.recorder, rewrites)
        rewritten += len(rewrites)
        position = batch[-1].id
        if progress:
            progress(position, head)
    app.readmodel.reset()
    compact(dict(app.env))
    old = record.fingerprint
    record.finish_rotation(now())
    app.save_store_key(record)
    return Rotation(old, new, rewritten, already, unreadable)


def _started(app: HotlineApplication, new: str) -> StoreKey:
    """The store's key record with the rotation to `new` started (by this run, or by an
    earlier one killed before it finished)."""
    record = app.check_key()
    if record is None:
        app.check_oldest_encrypted()
        record = StoreKey.record(app.key_fingerprint, now())
    if record.rotating_to is None:
        record.start_rotation(now(), new)
        app.save_store_key(record)
    elif record.rotating_to != new:
        raise StoreKeyError(
            f"a rotation to the key {short(record.rotating_to)} is under way; give that key "
            f"with --new-key-file (this one is {short(new)}) to finish it"
        )
    elif app.key_fingerprint != record.fingerprint:
        raise StoreKeyError(
            f"a rotation from the key {short(record.fingerprint)} to {short(new)} is under way; "
            "give the old key in HOTLINE_KEY or HOTLINE_KEY_FILE, and the new one with "
            "--new-key-file, to finish it"
        )
    return record


def _decrypts(mapper: PydanticMapper, state: bytes) -> bool:
    """Whether `mapper`'s key decrypts `state`."""
    assert mapper.cipher is not None
    try:
        mapper.cipher.decrypt(state[len(ENCRYPTED) :])
    except ValueError:
        return False
    return True
