"""The projection: follows the event store's notification log into the read model.

A pull loop over `recorder.select_notifications`, in batches; each batch's rows
and the tracking position are written in one transaction, so every event is
applied exactly once and a crash resumes where the last batch ended. `follow`
repeats the catch-up whenever new events may have been stored, until stopped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from uuid import UUID

import sqlalchemy.exc
from eventsourcing import persistence

from hotline.adapters.event_batches import Notified, notifications
from hotline.adapters.postgres import stored_roles
from hotline.adapters.readmodel import Change, ReadModel
from hotline.domain.aggregate import SHANGHAI, link, now
from hotline.domain.errors import one_line
from hotline.domain.order import Order
from hotline.service.application import HotlineApplication

BATCH_SIZE = 20_000
AS_OF_SKEW = timedelta(minutes=10)
"""How far a later notification's recorded time may lie before an earlier one's."""

Progress = Callable[[int, int], None]
"""Called with (position reached, head of the log) after each batch."""
POLL_INTERVAL = 0.5
"""Seconds `follow` waits between catch-ups when polling."""
RETRY_PAUSE = 5.0
"""Seconds `follow` waits after a transient database error before trying again."""
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    persistence.OperationalError,  # the store locked, the connection lost
    persistence.InterfaceError,
    sqlalchemy.exc.OperationalError,  # the same, writing the read model
    sqlalchemy.exc.InterfaceError,
)
"""Errors after which `follow` re-reads its position and tries again."""


@dataclass(frozen=True)
class ProjectionStatus:
    """Where the read model stands: `position` and `head` are notification ids (the last
    applied, the store's newest), which have gaps; `stored` and `lag` are counts of events
    (in the store, not yet applied)."""

    position: int
    head: int
    orders: int
    stored: int
    lag: int


class OrderProjection:
    """Keeps `readmodel` up to date with `app`'s event store."""

    def __init__(
        self, app: HotlineApplication, readmodel: ReadModel, batch_size: int = BATCH_SIZE
    ) -> None:
        self.app = app
        self.readmodel = readmodel
        self.batch_size = batch_size
        self.mapper = app.store_mapper

    def head(self) -> int:
        """The id of the newest notification in the store (0: none)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def status(self) -> ProjectionStatus:
        # SQLite's and PostgreSQL's recorders name their table; their base class does not.
        table: str = self.app.recorder.events_table_name  # type: ignore[attr-defined]
        position = self.readmodel.position()
        return ProjectionStatus(
            position,
            self.head(),
            self.readmodel.count(),
            self.readmodel.stored_events(table),
            self.readmodel.stored_events(table, after=position),
        )

    def catch_up(
        self, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> int:
        """Apply every notification after the tracked position; the number applied.

        Once `stop` is set, it returns after the batch under way."""
        return self._catch_up(progress, stop)[0]

    def _catch_up(self, progress: Progress | None, stop: threading.Event | None) -> tuple[int, int]:
        """(notifications applied, position reached)."""
        position = self.readmodel.position()
        head = self.head()
        applied = 0
        while position < head and not (stop and stop.is_set()):
            batch = self._batch(position)
            if not batch:
                break
            if not self.readmodel.apply(self._changes(batch), position, batch[-1][0]):
                position = self.readmodel.position()  # another process applied it first
                continue
            position = batch[-1][0]
            applied += len(batch)
            if progress:
                progress(position, head)
        return applied, position

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the read model and apply the whole log again."""
        self.readmodel.reset()
        return self.catch_up(progress)

    def replay_until(self, moment: datetime, readmodel: ReadModel) -> None:
        """Fill an empty `readmodel` with the events recorded up to `moment` (for --as-of)."""
        position = 0
        while True:
            batch = self._batch(position)
            if not batch:
                return
            changes = self._changes(batch)
            readmodel.apply([c for c in changes if _recorded(c) <= moment], position, batch[-1][0])
            if _recorded(changes[-1]) > moment + AS_OF_SKEW:
                return
            position = batch[-1][0]

    def replay_happened_by(self, day: date, readmodel: ReadModel) -> None:
        """Fill an empty `readmodel` with every event, whatever its recording time, that
        happened by the end of `day` (Asia/Shanghai; for --judged-on): a finding by its day,
        a correction or a withdrawal whenever made (they mend the record, they do not happen
        to the order)."""
        end = datetime.combine(day + timedelta(days=1), time(), SHANGHAI)
        position = 0
        while batch := self._batch(position):
            changes = [c for c in self._changes(batch) if _happened_by(c, day, end)]
            readmodel.apply(changes, position, batch[-1][0])
            position = batch[-1][0]

    def first_recorded(self) -> datetime | None:
        """When the store's first event was recorded (None: it has none)."""
        batch = self._batch(0)
        return _recorded(self._changes(batch[:1])[0]) if batch else None

    def _batch(self, position: int) -> list[Notified]:
        return notifications(self.app.recorder, position, self.batch_size)

    def _changes(self, batch: list[Notified]) -> list[Change]:
        plaintext = self.mapper.plaintext
        # On PostgreSQL, the role the server recorded, rather than the one the client wrote.
        roles = (
            stored_roles(self.app.recorder, first=batch[0][0], last=batch[-1][0])  # type: ignore[arg-type]
            if self.app.role is not None
            else {}
        )
        keys: dict[UUID | str, tuple[UUID, str]] = {}  # each aggregate's id made once a batch
        changes = []
        for position, stored_id, version, topic, stored in batch:
            plain = plaintext(stored)
            state = json.loads(plain)
            if position in roles:
                state["role"] = roles[position]
            found = keys.get(stored_id)
            if found is None:
                key = stored_id if isinstance(stored_id, UUID) else UUID(stored_id)
                found = keys[stored_id] = (key, str(key))
            change = Change(
                id=found[1],
                version=version,
                name=topic.rpartition(":")[2],
                state=state,
                link=link(found[0], version, topic, plain),
            )
            changes.append(change)
            if change.name == "Corrected":
                changes.extend(self.replayed(change))
        return changes

    def replayed(self, correction: Change) -> list[Change]:
        """The order's effective events as of `correction` (the domain's own replay of its
        corrections), replayed at the correction's recorded time (for --as-of)."""
        order: Order = self.app.repository.get(UUID(correction.id), version=correction.version)
        recorded = correction.state["timestamp"]
        return [
            Change(
                correction.id,
                event.originator_version,
                type(event).__name__,
                event.model_dump(mode="json") | {"timestamp": recorded},
                replayed=True,
            )
            for event in order.events
        ]


def _recorded(change: Change) -> datetime:
    return datetime.fromisoformat(change.state["timestamp"])


MENDS = {"Corrected", "FindingWithdrawn"}
"""Events that mend the record (更正, a finding entered by mistake withdrawn): what they mend
is taken as it is now, on whatever day a report judges."""


def _happened_by(change: Change, day: date, end: datetime) -> bool:
    """Whether `change` happened by the end of `day` (`end`: the next midnight)."""
    if change.name in MENDS:
        return True
    if change.name == "FindingRecorded":  # its day decides, not when it was entered
        return date.fromisoformat(change.state["day"]) <= day
    return datetime.fromisoformat(change.state["at"]) < end


class Waiter(Protocol):
    """How `follow` waits for new events between catch-ups."""

    listens: bool
    """Whether it hears of new events (else it only waits the timeout out)."""

    def wait(self, stop: threading.Event, timeout: float) -> None:
        """Return once new events may have been stored, `timeout` seconds have passed, or
        `stop` is set, whichever comes first."""

    def close(self) -> None:
        """Let go of what it waits with."""


class Polling:
    """Waits out the whole timeout: the next catch-up looks for itself (any backend)."""

    listens = False

    def wait(self, stop: threading.Event, timeout: float) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        pass


def waiter_for(app: HotlineApplication) -> Waiter:
    """LISTEN/NOTIFY on a PostgreSQL store, polling on any other."""
    channel = getattr(app.recorder, "channel_name", None)
    if isinstance(channel, str) and "POSTGRES_DBNAME" in app.env:
        from hotline.adapters.notifications import PostgresListener  # psycopg: PostgreSQL only

        return PostgresListener(dict(app.env), channel)
    return Polling()


@dataclass(frozen=True)
class CatchUp:
    """A catch-up by `follow` that applied something."""

    at: datetime
    applied: int
    position: int


def follow(
    projection: OrderProjection,
    stop: threading.Event,
    *,
    on_catch_up: Callable[[CatchUp], None],
    on_error: Callable[[str], None],
    waiter: Waiter | None = None,
    interval: float = POLL_INTERVAL,
    retry_pause: float = RETRY_PAUSE,
    clock: Callable[[], datetime] = now,
) -> int | None:
    """Keep the read model caught up until `stop` is set; the position it stopped at (None if
    it never read one).

    It catches up, then waits on `waiter` (polling by default) for at most `interval` seconds,
    and again; once `stop` is set it returns after the batch under way. A transient database
    error (`TRANSIENT_ERRORS`) is told to `on_error` and retried after `retry_pause` seconds;
    any other error, a `HotlineError` included, ends it."""
    waiter = waiter or Polling()
    position: int | None = None
    while not stop.is_set():
        try:
            applied, position = projection._catch_up(None, stop)
        except TRANSIENT_ERRORS as error:
            on_error(f"cannot catch up ({one_line(error)}); trying again in {retry_pause:g} s")
            stop.wait(retry_pause)
            continue
        if applied:
            on_catch_up(CatchUp(clock(), applied, position))
        waiter.wait(stop, interval)
    return position
