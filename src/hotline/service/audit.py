"""The audit trail (审计记录): who recorded every event, and every correction.

An order's trail is read from the store itself: each event as recorded, with its
recorder, and which later corrections changed it. A trail across orders (a unit's,
an actor's, a period's) is read from the read model's index of every event.
Personal data, and the phone and ID numbers typed into free texts, show masked in both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from hotline.adapters.postgres import stored_roles_of
from hotline.adapters.readmodel import AuditRecord
from hotline.domain.aggregate import BOOKKEEPING, SHANGHAI, DomainEvent
from hotline.domain.order import Corrected, Order
from hotline.domain.personal_data import mask, mask_numbers
from hotline.service.application import HotlineApplication
from hotline.service.reports import Reports


@dataclass(frozen=True)
class TrailEntry:
    """One event of an order, as recorded."""

    version: int
    event: str
    happened: datetime
    recorded: datetime
    actor: str | None
    role: str | None
    detail: str
    """The event's own fields as recorded, or what a correction changed (personal data
    masked)."""
    corrected_by: tuple[int, ...]
    """The versions of the corrections that changed this event."""


def order_trail(app: HotlineApplication, number: str) -> tuple[Order, list[TrailEntry]]:
    """The order and every event of it, oldest first, as recorded."""
    order = app.order(number)
    corrections = order.corrected_by()
    # On PostgreSQL, the role the server recorded, rather than the one the client wrote.
    roles = stored_roles_of(app.recorder, order.id) if app.role is not None else {}  # type: ignore[arg-type]
    entries = [
        TrailEntry(
            version=event.originator_version,
            event=event.name,
            happened=event.at,
            recorded=event.timestamp,
            actor=event.actor,
            role=roles.get(event.originator_version, event.role),
            detail=event.summary() if isinstance(event, Corrected) else _fields(event),
            corrected_by=tuple(corrections.get(event.originator_version, ())),
        )
        for event in order.history
    ]
    return order, entries


def _fields(event: DomainEvent) -> str:
    fields = event.model_dump(mode="json", exclude=BOOKKEEPING).items()
    return ", ".join(f"{k}={mask(k, v)}" for k, v in fields if v not in (None, ""))


def trail(
    app: HotlineApplication,
    unit: str | None = None,
    actor: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[AuditRecord]:
    """Every event recorded from day `first` to day `last` (Asia/Shanghai), of `unit`'s
    orders and findings, by `actor`, oldest first (the read model caught up first), the
    numbers in its details masked (a reason is free text)."""
    name = app.units.canonical(unit)
    since = datetime.combine(first, time(), SHANGHAI) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), SHANGHAI) if last else None
    found = Reports(app).current().trail(name, actor, since, until)
    return [replace(record, detail=mask_numbers(record.detail)) for record in found]
