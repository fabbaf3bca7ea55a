"""The projection: follows the event store's notification log into the read model.

A pull loop over `recorder.select_notifications`, in batches; each batch's rows
and the tracking position are written in one transaction, so every event is
applied exactly once and a crash resumes where the last batch ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from eventsourcing.persistence import Notification

from hotline.adapters.eventstore import PydanticMapper
from hotline.adapters.readmodel import Change, ReadModel
from hotline.service.application import HotlineApplication

BATCH_SIZE = 20_000
AS_OF_SKEW = timedelta(minutes=10)
"""How far a later notification's recorded time may lie before an earlier one's."""

Progress = Callable[[int, int], None]
"""Called with (position reached, head of the log) after each batch."""


@dataclass(frozen=True)
class ProjectionStatus:
    position: int
    head: int
    orders: int

    @property
    def lag(self) -> int:
        return self.head - self.position


class OrderProjection:
    """Keeps `readmodel` up to date with `app`'s event store."""

    def __init__(
        self, app: HotlineApplication, readmodel: ReadModel, batch_size: int = BATCH_SIZE
    ) -> None:
        self.app = app
        self.readmodel = readmodel
        self.batch_size = batch_size
        self.mapper = cast(PydanticMapper, app.mapper)

    def head(self) -> int:
        """The id of the newest notification in the store (0: none)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def status(self) -> ProjectionStatus:
        return ProjectionStatus(self.readmodel.position(), self.head(), self.readmodel.count())

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every notification after the tracked position; the number applied."""
        position = self.readmodel.position()
        head = self.head()
        applied = 0
        while position < head:
            batch = self._batch(position)
            if not batch:
                break
            self.readmodel.apply(self._changes(batch), batch[-1].id)
            position = batch[-1].id
            applied += len(batch)
            if progress:
                progress(position, head)
        return applied

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
            readmodel.apply([c for c in changes if _recorded(c) <= moment], batch[-1].id)
            if _recorded(changes[-1]) > moment + AS_OF_SKEW:
                return
            position = batch[-1].id

    def _batch(self, position: int) -> Sequence[Notification]:
        return self.app.recorder.select_notifications(
            start=position, limit=self.batch_size, inclusive_of_start=False
        )

    def _changes(self, batch: Sequence[Notification]) -> list[Change]:
        decode = self.mapper.decode_state
        return [
            Change(
                id=str(n.originator_id),
                version=n.originator_version,
                name=n.topic.rpartition(":")[2],
                state=decode(n.state),
            )
            for n in batch
        ]


def _recorded(change: Change) -> datetime:
    return datetime.fromisoformat(change.state["timestamp"])
