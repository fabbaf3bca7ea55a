"""Units added by users (`hotline units add`, `units rename`), kept as events.

The shipped registry (`rubrics/units.toml`) is a file on each machine; a unit a
user adds lives in the store beside the orders, so everyone on the same store
(a PostgreSQL server) sees it. The registry is the file with these additions
layered over it, in the order they were made (`hotline.adapters.unit_file`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from hotline.domain import lengths
from hotline.domain.aggregate import Aggregate, CreationEvent, DomainEvent
from hotline.domain.keys import Key
from hotline.domain.units import AddedUnit, Rename

UNITS_ID: UUID = uuid5(NAMESPACE_URL, "https://hotline.invalid/units")

UnitName = Annotated[str, Field(min_length=1, max_length=lengths.UNIT_NAME)]


class UnitAdditionsStarted(CreationEvent):
    """The first unit ever added starts the additions' history."""

    name = "unit_additions_started"


class UnitAdded(DomainEvent):
    """A unit (or, `under` a bureau, an office) in `group`, in effect from `effective`,
    also spelled `aliases`."""

    name = "unit_added"
    unit: UnitName
    group: Key
    under: UnitName | None = None
    effective: date | None = None
    aliases: list[UnitName] = Field(default_factory=list, max_length=20)

    def apply(self, additions: UnitAdditions) -> None:
        additions.changes.append(
            AddedUnit(self.unit, self.group, self.under, self.effective, tuple(self.aliases))
        )


class UnitRenamed(DomainEvent):
    """Unit `old` is called `new` from `on`."""

    name = "unit_renamed"
    old: UnitName
    new: UnitName
    on: date

    def apply(self, additions: UnitAdditions) -> None:
        additions.changes.append(Rename(self.old, self.new, self.on))


class UnitAdditions(Aggregate):
    """All users' additions to the unit registry, in the order they were made."""

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.changes: list[AddedUnit | Rename] = []

    @classmethod
    def start(cls, at: datetime) -> UnitAdditions:
        return cls._create(UNITS_ID, UnitAdditionsStarted, at=at)

    def add(self, at: datetime, unit: AddedUnit) -> None:
        self._record(
            self._next(
                UnitAdded,
                at=at,
                unit=unit.name,
                group=unit.group,
                under=unit.under,
                effective=unit.effective,
                aliases=list(unit.aliases),
            )
        )

    def rename(self, at: datetime, rename: Rename) -> None:
        self._record(self._next(UnitRenamed, at=at, old=rename.old, new=rename.new, on=rename.on))


UnitAdditionsStarted.aggregate_class = UnitAdditions
