"""`verify`: whether the stored events are those hotline wrote (docs/verify.md).

Each event's `chain` holds the `link` of the event before it in its aggregate (the first's,
`first_link` of the aggregate), and a link covers the aggregate, the version, the type and
the exact plaintext state. So an event altered in place breaks the link of the next one; an
event moved to another aggregate or version, or swapped with another, breaks its own and the
next; a removed event leaves a gap in the versions. The newest event of an aggregate has no
next one: its removal is seen in the read model's audit trail (one row per event applied)
and, on SQLite, in the gap it leaves in the notification ids; its alteration, in a
plaintext store, is not seen (in an encrypted one, AES-GCM refuses it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import TopicError, resolve_topic
from pydantic import ValidationError

from hotline.adapters.eventstore import ENCRYPTED, NO_KEY, PydanticMapper, StoreError
from hotline.adapters.store_scan import Aggregate, StoredRow, TrailRow, events_table, snapshot
from hotline.domain.aggregate import DomainEvent, describe, first_link, link
from hotline.domain.calendar_amendments import CALENDAR_ID
from hotline.domain.errors import OrderNotFound
from hotline.domain.order import order_id
from hotline.domain.store_key import STORE_KEY_ID
from hotline.domain.unit_additions import UNITS_ID
from hotline.service.application import HotlineApplication

Progress = Callable[[int, int], None]
"""Called with (events checked, events in the store) as the check goes."""
PROGRESS_EVERY = 20_000
EVENT_MODULES = "hotline.domain."
"""Where every event type lives."""
UNDECRYPTABLE = "its state cannot be decrypted with the store's key"
JSON = json.JSONDecoder()
"""Decodes a state as UTF-8 text, as hotline writes it: `json.loads` of bytes first guesses
their encoding, a tenth of the decoding."""


@dataclass(frozen=True)
class Problem:
    """What is wrong with one event (or, with no version, with the store)."""

    subject: str
    """`order 2019-0001`, `finding <id>`, `the calendar` or `the store`."""
    version: int | None
    event: str | None
    verdict: str
    """`altered`, `removed`, `moved or replaced` ..."""
    why: str

    def __str__(self) -> str:
        which = "" if self.version is None else f" event #{self.version}"
        name = f" ({self.event})" if self.event else ""
        return f"{self.subject}{which}{name}: {self.verdict} — {self.why}"


@dataclass
class Verification:
    """What `verify` found."""

    aggregates: int = 0
    events: int = 0
    unchained: int = 0
    """Events recorded before hotline chained them (legacy): not checked against a chain."""
    unwitnessed: int = 0
    """Records whose newest event the read model has not applied yet: no later link and no
    trail row vouch for its own state (docs/verify.md)."""
    problems: list[Problem] = field(default_factory=list)
    newest: int = 0
    """The store's newest notification id as the check saw it: where a rebuild stands."""

    @property
    def clean(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        records = f"{self.aggregates} record{'s' if self.aggregates != 1 else ''}"
        notes = [f"{self.unchained} from before events were chained"] if self.unchained else []
        if self.unwitnessed:
            notes.append(
                f"{self.unwitnessed} newest not yet in the read model, their own state unconfirmed"
            )
        legacy = f" ({'; '.join(notes)})" if notes else ""
        count = len(self.problems)
        found = f"{count} problem{'s' if count != 1 else ''}" if count else "no problems"
        return f"{self.events} events of {records} checked{legacy}: {found}"


@dataclass
class Entry:
    """One stored event as `verify` reads it."""

    row: StoredRow
    name: str
    fault: str | None = None
    """Why its state cannot be read, if it cannot."""
    link: str | None = None
    """Its own link (None: its state could not be decrypted or parsed)."""
    chain: str | None = None
    """What its `chain` says (None: nothing)."""
    number: str | None = None
    """The order number a `received` event gives."""
    refusal: StoreError | None = None
    """Why it could not be decrypted."""
    plain_by_design: bool = False
    """Of the store key's record, which the store keeps in plaintext beside encrypted events."""
    plain: bytes | None = None
    """Its state decrypted (None: it could not be)."""
    state: dict[str, Any] | None = None
    """Its state decoded (None: it is not a JSON object)."""

    @property
    def readable(self) -> bool:
        return self.fault is None

    @property
    def encrypted(self) -> bool:
        """Stored as an encrypted store keeps it."""
        return self.plain_by_design or self.row.state.startswith(ENCRYPTED)


class Fold(Protocol):
    """What a one-pass rebuild does with each aggregate's events as the check reads them."""

    def __call__(self, aggregate: UUID, entries: list[Entry]) -> dict[int, str]:
        """Fold `entries` (an aggregate's, in version order); why it cannot read some, by
        version."""


def verify(
    app: HotlineApplication, order: str | None = None, progress: Progress | None = None
) -> Verification:
    """Check every stored event (or order `order`'s): see the module's docstring."""
    return scan(app, order, progress)


def scan(
    app: HotlineApplication,
    order: str | None = None,
    progress: Progress | None = None,
    fold: Fold | None = None,
) -> Verification:
    """`verify`'s checks in one pass over the store in aggregate order; with `fold`, each
    event is not validated against its model but handed to `fold` (a rebuild), whose
    faults are problems like a failed validation."""
    mapper = app.store_mapper
    only = order_id(order) if order is not None else None
    result = Verification()
    roles = app.role is not None and app.readmodel.engine.dialect.name == "postgresql"
    with snapshot(app.readmodel.engine, events_table(app.recorder), only, roles) as seen:
        total = seen.count()
        projected = seen.projected()
        firsts = _Firsts()
        refusal: StoreError | None = None
        decrypted = False
        for aggregate in seen.aggregates():
            entries = [_read(mapper, aggregate.id, row, fold is None) for row in aggregate.rows]
            faults = fold(aggregate.id, entries) if fold is not None else {}
            found = list(_check(aggregate, entries, projected))
            # A fault after an event with a problem may follow from it: that one is said.
            first = min((p.version or 0 for p in found), default=None)
            kept = {v: f for v, f in faults.items() if first is None or v <= first}
            if kept:
                for entry in entries:
                    entry.fault = entry.fault or kept.get(entry.row.version)
                found = list(_check(aggregate, entries, projected))
            firsts.note(entries)
            for entry in entries:
                refusal = refusal or entry.refusal
                decrypted = decrypted or (entry.link is not None and entry.encrypted)
            result.aggregates += 1
            result.events += len(entries)
            result.unchained += sum(1 for e in entries if e.readable and e.chain is None)
            if entries and entries[-1].row.version not in {t.version for t in aggregate.trail}:
                result.unwitnessed += 1
            result.problems.extend(found)
            if (
                progress
                and result.events // PROGRESS_EVERY
                > (result.events - len(entries)) // PROGRESS_EVERY
            ):
                progress(result.events, total)
        if refusal is not None and not decrypted:
            raise refusal  # not one event decrypts: the key is not the store's
        if firsts.broken():
            for aggregate in seen.aggregates():  # again: only a tampered store gets here
                entries = [_read(mapper, aggregate.id, row, fold is None) for row in aggregate.rows]
                later = list(firsts.after(_subject(aggregate, entries), entries))
                if later:  # instead of what the first pass said of these events
                    named = {(p.subject, p.version) for p in later}
                    result.problems = [
                        *(p for p in result.problems if (p.subject, p.version) not in named),
                        *later,
                    ]
        result.problems.extend(
            Problem("the store", None, None, "altered", f"the row at position {position} has "
                    "no aggregate id or version as hotline writes them")
            for position in seen.malformed
        )  # fmt: skip
        result.newest = seen.newest()
        if only is None:
            result.problems.extend(_store_problems(seen.gaps(), result.newest, projected))
        elif not result.aggregates:
            raise OrderNotFound(f"no order {order} is in the store or its read model")
    if progress:
        progress(result.events, total)
    return result


def _read(mapper: PydanticMapper, aggregate_id: UUID, row: StoredRow, validate: bool) -> Entry:
    """Decode, link and (with `validate`) validate one stored event; what is wrong with it is
    kept, and its state for a fold."""
    event_class = _event_class(row.topic)
    tail = row.topic.rpartition(":")[2]
    entry = Entry(row, event_class.name if event_class else tail if tail.isidentifier() else "?")
    entry.plain_by_design = aggregate_id == STORE_KEY_ID
    if row.state.startswith(ENCRYPTED) and mapper.cipher is None:
        raise StoreError(f"{NO_KEY} to verify it")
    try:
        plaintext = entry.plain = mapper.plaintext(row.state)
    except StoreError as error:
        entry.fault = UNDECRYPTABLE
        entry.refusal = error
        return entry
    try:
        state = JSON.decode(plaintext.decode())
    except ValueError:  # UnicodeDecodeError too
        state = None
    if not isinstance(state, dict):
        entry.fault = "its state is not a JSON object"
        return entry
    entry.link = link(aggregate_id, row.version, row.topic, plaintext)
    chain = state.get("chain")
    entry.chain = chain if isinstance(chain, str) else None
    number = state.get("number")
    entry.number = number if isinstance(number, str) and number.isprintable() else None
    entry.state = state
    if event_class is None:
        entry.fault = f"its type {row.topic!r} is not an event hotline knows"
        return entry
    if not validate:
        return entry
    try:
        event_class.model_validate(
            state | {"originator_id": aggregate_id, "originator_version": row.version}
        )
    except ValidationError as error:
        entry.fault = f"its state is not a valid {entry.name} event: {describe(error)}"
    return entry


def _event_class(topic: str) -> type[DomainEvent] | None:
    """The event type `topic` names, if it is one of hotline's: no other module is imported
    for a topic someone wrote into the store."""
    if not topic.startswith(EVENT_MODULES):
        return None
    try:
        found = resolve_topic(topic)
    except (TopicError, ValueError):
        return None
    return found if isinstance(found, type) and issubclass(found, DomainEvent) else None


def _check(aggregate: Aggregate, entries: list[Entry], projected: int) -> Iterator[Problem]:
    """The problems of one aggregate's events, one per event at most: the first verdict
    reached of, in order, unreadable, removed, moved or replaced (its own chain and the
    next's broken), unlike the read model, and a single broken chain."""
    verdicts: dict[int, tuple[str, str, str]] = {}  # version -> (name, verdict, why)

    def judge(version: int, name: str, verdict: str, why: str) -> None:
        verdicts.setdefault(version, (name, verdict, why))

    stored = {e.row.version: e for e in entries}
    trail = {t.version: t for t in aggregate.trail}
    for entry in entries:
        if entry.fault is not None:
            judge(entry.row.version, entry.name, "altered", entry.fault)
    for version in range(1, max([*stored, *trail], default=0) + 1):
        if version not in stored:
            name = trail[version].event if version in trail else "?"
            judge(version, name if name.isidentifier() else "?", "removed",
                  _removed(version, version in trail))  # fmt: skip
    runs = list(_runs(_broken_links(aggregate.id, stored)))
    for start, end in runs:
        for version in range(start, end):
            judge(version, stored[version].name, "moved or replaced",
                  f"{_not_after(version)}, nor does #{version + 1} follow it")  # fmt: skip
    for version, entry in stored.items():
        if (found := _unlike_read_model(entry, trail.get(version), projected)) is not None:
            judge(version, entry.name, *found)
    for start, end in runs:
        if start != end or start - 1 in verdicts:  # a verdict on #start-1 explains it
            continue
        if start == 1:
            judge(1, stored[1].name, "moved or replaced", _not_after(1))
        elif start + 1 in stored:
            judge(start - 1, stored[start - 1].name, "altered",
                  f"its state does not match the chain of #{start}")  # fmt: skip
        else:
            judge(start, stored[start].name, "altered or moved",
                  f"it does not follow #{start - 1}: #{start - 1} was altered, or #{start} "
                  "was moved here or replaced")  # fmt: skip
    subject = _subject(aggregate, entries) if verdicts else ""  # a uuid5: only when needed
    for version in sorted(verdicts):
        name, verdict, why = verdicts[version]
        yield Problem(subject, version, name, verdict, why)


def _removed(version: int, applied: bool) -> str:
    if applied:
        return "in the read model's audit trail but not in the store"
    if version > 1:
        return f"the stored versions go from #{version - 1} to a later one"
    return "the stored versions start at a later one"


def _unlike_read_model(
    entry: Entry, applied: TrailRow | None, projected: int
) -> tuple[str, str] | None:
    """How `entry` differs from what the read model applied of it, if it does."""
    if applied is None:
        if entry.row.position <= projected:
            return (
                "moved or inserted",
                "the read model applied the store past it, but not this event",
            )
        return None
    if applied.event != entry.name:
        return "altered", f"stored as {entry.name}, but the read model applied {applied.event}"
    if applied.link is not None and applied.link != entry.link:
        return "altered", "its state is not the one the read model applied (edited, or another's)"
    return None


def _not_after(version: int) -> str:
    if version == 1:
        return "its chain is not that of this aggregate's first event"
    return f"it does not follow #{version - 1}"


def _broken_links(aggregate_id: UUID, stored: dict[int, Entry]) -> list[int]:
    """The versions whose `chain` is not the link of the event before them (where both can be
    read; an unchained event breaks no link)."""
    broken = []
    for version, entry in sorted(stored.items()):
        if entry.chain is None:
            continue
        if version == 1:
            expected: str | None = first_link(aggregate_id)
        else:
            before = stored.get(version - 1)
            expected = before.link if before is not None else None
        if expected is not None and entry.chain != expected:
            broken.append(version)
    return broken


def _runs(versions: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive versions: [2, 3, 7] -> (2, 3), (7, 7)."""
    start = previous = None
    for version in versions:
        if previous is not None and version == previous + 1:
            previous = version
            continue
        if start is not None and previous is not None:
            yield start, previous
        start = previous = version
    if start is not None and previous is not None:
        yield start, previous


def _subject(aggregate: Aggregate, entries: list[Entry]) -> str:
    """How a problem names the aggregate: the order's number where it can."""
    numbers = [e.number for e in entries] + [t.number for t in aggregate.trail]
    for number in numbers:
        if number and order_id(number) == aggregate.id:  # else not this order's own number
            return f"order {number}"
    if aggregate.id == CALENDAR_ID:
        return "the calendar"
    if aggregate.id == STORE_KEY_ID:
        return "the store's key record"
    if aggregate.id == UNITS_ID:
        return "the units added (`hotline units add`)"
    topics = [e.row.topic for e in entries]
    if any(":Finding" in topic for topic in topics):
        return f"finding {aggregate.id}"
    return f"order {aggregate.id}"


class _Firsts:
    """Once an event is chained (or encrypted), every later one in the store must be: an
    unchained (plaintext) event after it was written by an older hotline (or without the
    key), or forged by someone who cannot make a chained (encrypted) one."""

    def __init__(self) -> None:
        self.first_chained: int | None = None
        self.last_unchained = 0
        self.first_encrypted: int | None = None
        self.last_plaintext = 0

    def note(self, entries: list[Entry]) -> None:
        for entry in entries:
            position = entry.row.position
            if entry.readable and entry.chain is not None:
                self.first_chained = min(position, self.first_chained or position)
            elif entry.readable:
                self.last_unchained = max(position, self.last_unchained)
            if entry.encrypted:
                self.first_encrypted = min(position, self.first_encrypted or position)
            else:
                self.last_plaintext = max(position, self.last_plaintext)

    def broken(self) -> bool:
        """Whether an unchained (plaintext) event was stored after a chained (encrypted) one."""
        chain_late = self.first_chained is not None and self.last_unchained > self.first_chained
        plain_late = self.first_encrypted is not None and self.last_plaintext > self.first_encrypted
        return chain_late or plain_late

    def after(self, subject: str, entries: list[Entry]) -> Iterator[Problem]:
        for entry in entries:
            position = entry.row.position
            version = entry.row.version
            if (
                not entry.encrypted
                and self.first_encrypted is not None
                and position > self.first_encrypted
            ):
                yield Problem(
                    subject,
                    version,
                    entry.name,
                    "not encrypted",
                    "stored in plaintext after the store's first encrypted event: written "
                    "without the key, or forged",
                )
            elif (
                entry.readable
                and entry.chain is None
                and self.first_chained is not None
                and position > self.first_chained
            ):
                yield Problem(
                    subject,
                    version,
                    entry.name,
                    "unchained",
                    "it has no chain but was stored after chained events: its chain was "
                    "removed, or an older hotline wrote it",
                )


def _store_problems(gaps: list[tuple[int, int]], newest: int, projected: int) -> list[Problem]:
    """Rows missing from the store as a whole (positions, not yet named by their order)."""
    problems = []
    for start, end in gaps:
        where = f"position {start}" if start == end else f"positions {start}–{end}"
        problems.append(
            Problem(
                "the store",
                None,
                None,
                "removed",
                f"no event at {where} of the notification log (SQLite never skips one): "
                "deleted rows",
            )
        )
    if projected > newest:
        problems.append(
            Problem(
                "the store",
                None,
                None,
                "removed",
                f"the read model applied events up to position {projected}, but the newest "
                f"stored is at {newest}",
            )
        )
    return problems
