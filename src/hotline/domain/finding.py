"""Findings (检查发现): an inspector's judgements that the order events cannot show.

Some rubric items need someone to look: an order entered against the data
standard, legal documents not up to standard, a bonus such as 三方转接. A
manager enters each as a finding against a rubric item (`PerFinding` in
`hotline.domain.rubric`), for a unit and a day; the scoring counts the findings
of a unit whose day falls in the period. A finding is never edited or deleted:
one entered by mistake is withdrawn, and counts no more.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID, uuid4

from pydantic import Field

from hotline.domain import lengths
from hotline.domain.aggregate import LINES, Aggregate, CreationEvent, DomainEvent
from hotline.domain.errors import FindingError
from hotline.domain.keys import Key, Name
from hotline.domain.order import OrderNumber

Note = Annotated[str, Field(min_length=1, max_length=500), LINES]
Count = Annotated[int, Field(ge=1, le=1000)]
UnitName = Annotated[str, Field(min_length=1, max_length=lengths.UNIT_NAME)]


class FindingRecorded(CreationEvent):
    """A finding was entered: `count` times rubric `rubric`'s item `item`, for `unit`,
    on `day` (when the fact happened or was found: it decides the period it counts in)."""

    name = "finding_recorded"
    rubric: Name
    item: Key
    unit: UnitName
    day: date
    count: Count = 1
    order: OrderNumber | None = None
    note: Note

    def apply(self, finding: Finding) -> None:
        finding.rubric = self.rubric
        finding.item = self.item
        finding.unit = self.unit
        finding.day = self.day
        finding.count = self.count
        finding.order = self.order
        finding.note = self.note


class FindingWithdrawn(DomainEvent):
    """A finding entered by mistake was withdrawn: it counts no more."""

    name = "finding_withdrawn"
    reason: Note

    def apply(self, finding: Finding) -> None:
        finding.withdrawn = self


class Finding(Aggregate):
    """One finding; its state is the fold of its events."""

    rubric: str
    item: str
    unit: str
    day: date
    count: int
    order: str | None
    note: str

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.withdrawn: FindingWithdrawn | None = None

    @classmethod
    def record(
        cls,
        at: datetime,
        *,
        rubric: str,
        item: str,
        unit: str,
        day: date,
        note: str,
        count: int = 1,
        order: str | None = None,
    ) -> Finding:
        """A new finding (a new random id), entered at `at`."""
        return cls._create(
            uuid4(),
            FindingRecorded,
            at=at,
            rubric=rubric,
            item=item,
            unit=unit,
            day=day,
            count=count,
            order=order,
            note=note,
        )

    def withdraw(self, at: datetime, reason: str) -> None:
        """Withdraw the finding; a finding is withdrawn once."""
        if self.withdrawn is not None:
            raise FindingError(
                f"finding {self.id} was already withdrawn on "
                f"{self.withdrawn.at:%Y-%m-%d %H:%M} ({self.withdrawn.reason}); "
                "nothing to do"
            )
        self._record(self._next(FindingWithdrawn, at=at, reason=reason))


FindingRecorded.aggregate_class = Finding
