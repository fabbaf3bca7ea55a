"""How an order looks in the terminal and as JSON. Personal data is masked unless revealed."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from hotline.cli.output import printable, shown
from hotline.domain.aggregate import BOOKKEEPING, DomainEvent, recorded_by
from hotline.domain.limits import LimitCheck, LimitName, LimitStatus
from hotline.domain.order import Corrected, Flagged, Order
from hotline.domain.personal_data import mask, masks
from hotline.domain.statutory_holidays import STATUTORY_FROM
from hotline.service.application import OrderView

LIMIT_LABELS = {
    LimitName.FIRST_CONTACT: "first contact 先行联系",
    LimitName.RETURN: "return 退单",
    LimitName.CLOSE: "close 办结",
    LimitName.ACCEPTANCE: "acceptance 受理",
    LimitName.ACCEPTANCE_NOTICE: "acceptance notice 受理告知",
    LimitName.TERMINATION_NOTICE: "termination notice 终止调解告知",
    LimitName.REPORT_CHECK: "report check 举报核查",
    LimitName.REPORT_NOTICE: "report notice 举报告知",
}
STATUS_STYLES = {
    LimitStatus.MET: "green",
    LimitStatus.PENDING: "yellow",
    LimitStatus.MISSED: "red",
    LimitStatus.OVERDUE: "bold red",
    LimitStatus.NOT_REQUIRED: "dim",
}


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _payload(event: DomainEvent, reveal: bool = False) -> dict[str, Any]:
    """The event's own fields, JSON-ready, with personal data and the phone and ID numbers
    in free texts masked (unless `reveal`) and empty ones left out."""
    fields = event.model_dump(mode="json", exclude=BOOKKEEPING)
    if not reveal:
        for name, value in fields.items():
            if value and masks(name):
                fields[name] = mask(name, value)
        if isinstance(event, Corrected) and masks(event.field):
            for name in ("value", "previous"):  # what it corrected, and to what
                if isinstance(fields[name], str):
                    fields[name] = mask(event.field, fields[name])
    return {key: value for key, value in fields.items() if value not in (None, "")}


def _fields(event: DomainEvent, reveal: bool) -> dict[str, Any]:
    """The event's own fields under the import's names: the order number is the document's
    `order`, not a field of its `received` event again."""
    return {key: value for key, value in _payload(event, reveal).items() if key != "number"}


def unpublished_warning(years: tuple[int, ...]) -> str | None:
    """The warning for deadlines that run into years with no published schedule."""
    if not years:
        return None
    listed = ", ".join(str(year) for year in years)
    known = "weekends and statutory holidays" if min(years) >= STATUTORY_FROM else "weekends"
    return (
        f"warning: no published holiday schedule for {listed}: only {known} are counted there, "
        "so those dates are provisional. Add the schedule with `hotline calendar add-year FILE`."
    )


def warn_unpublished(years: tuple[int, ...]) -> None:
    """Print the unpublished-years warning, if any, as one line on stderr."""
    if warning := unpublished_warning(years):
        print(warning, file=sys.stderr)


def _flags_on(order: Order, check: LimitCheck) -> list[Flagged]:
    """The scheduler's flags on `check`'s limit, oldest first."""
    return [flag for flag in order.events_of(Flagged) if flag.limit == check.limit.value]


def _check_json(order: Order, check: LimitCheck) -> dict[str, Any]:
    return {
        "limit": check.limit.value,
        "status": check.status.label,
        "due": check.due.isoformat() if check.due else None,
        "done": check.done.isoformat() if check.done else None,
        "day": check.day,
        "provisional": check.provisional,
        "note": check.note,
        "flags": [
            {"level": flag.level.value, "at": flag.at.isoformat()}
            for flag in _flags_on(order, check)
        ],
    }


def order_json(view: OrderView, reveal: bool = False) -> dict[str, Any]:
    """The order, its timeline (each event as corrected, with who recorded it) and its
    limits, JSON-ready (dates as YYYY-MM-DD)."""
    order = view.order
    effective = {event.originator_version: event for event in order.events}
    corrections = order.corrected_by()
    warning = unpublished_warning(view.unpublished_years)
    return {
        "order": order.number,
        "unit": order.unit,
        "kind": order.kind.value,
        "channel": order.channel.value,
        "status": order.status.value,
        "received": order.received_at.date().isoformat(),
        "judged_on": view.today.isoformat(),
        "overdue": view.overdue,
        "events": [
            {
                "version": event.originator_version,
                "event": event.name,
                "at": effective.get(event.originator_version, event).at.isoformat(),
                "recorded": event.timestamp.isoformat(),
                "actor": event.actor,
                "role": event.role,
                **_fields(effective.get(event.originator_version, event), reveal),
                **(
                    {"corrected_by": corrections[event.originator_version]}
                    if event.originator_version in corrections
                    else {}
                ),
            }
            for event in order.history
        ],
        "limits": [_check_json(order, check) for check in view.checks],
        "warnings": [warning] if warning else [],
    }


HEADER_FIELDS = {"number", "unit", "kind", "channel"}


def _details(event: DomainEvent, reveal: bool = False) -> str:
    """The fields that differ from their defaults, less those the header shows."""
    if isinstance(event, Corrected):
        return event.summary()
    changed = event.model_dump(exclude_defaults=True).keys() - HEADER_FIELDS
    payload = _payload(event, reveal)
    return ", ".join(f"{key}={value}" for key, value in payload.items() if key in changed)


def _check_text(check: LimitCheck) -> str:
    if check.status is LimitStatus.NOT_REQUIRED:
        return "not required"
    if check.done is not None:
        return f"{check.status.label}: done {check.done} (day {check.day}), due {check.due}"
    return f"{check.status.label}: due {check.due}"


def print_recorded(view: OrderView, event: str) -> None:
    """One line confirming what was logged, then where the order's open limits stand."""
    console = Console(highlight=False)
    order = view.order
    logged = order.history[-1]
    console.print(
        f"order {order.number}: {event} at {_time(logged.at)} recorded "
        f"(status {order.status.value})"
    )
    for check in view.checks:
        if check.status in (LimitStatus.PENDING, LimitStatus.OVERDUE, LimitStatus.MISSED):
            style = STATUS_STYLES[check.status]
            console.print(
                f"  {LIMIT_LABELS[check.limit]}: [{style}]{_check_text(check)}[/] "
                f"(as of {view.today})"
            )
    warn_unpublished(view.unpublished_years)


def print_order(view: OrderView, reveal: bool = False) -> None:
    """The order's header, timeline (each event as corrected) and limits as rich tables;
    personal data masked unless `reveal`."""
    console = Console(highlight=False)
    order = view.order
    effective = {event.originator_version: event for event in order.events}
    corrections = order.corrected_by()
    received = order.events[0]
    citizen = _payload(received, reveal)
    who = " ".join(citizen[k] for k in ("citizen_name", "citizen_phone") if k in citizen)
    console.print(
        f"[bold]order {order.number}[/] · {order.kind.value} {order.kind.label} · "
        f"{order.channel.value} · {escape(printable(order.unit))} · status "
        f"[bold]{order.status.value}[/]" + (f" · citizen {escape(printable(who))}" if who else "")
    )
    # At 80 columns nothing of a date or time is cut: they never wrap, the recorded time
    # goes under the happened one, and the texts (details, actors, notes) wrap instead.
    timeline = Table(
        "#", Column("event", no_wrap=True), Column("happened\nrecorded", no_wrap=True),
        Column("actor", overflow="fold"), Column("details", overflow="fold"), title="timeline",
    )  # fmt: skip
    for event in order.history:
        version = event.originator_version
        as_corrected = effective.get(version, event)
        corrected = ", ".join(f"#{v}" for v in corrections.get(version, ()))
        timeline.add_row(
            str(version),
            event.name,
            f"{_time(as_corrected.at)}\n[dim]{_time(event.timestamp)}[/]",
            shown(recorded_by(event.actor, event.role) or "—"),
            shown(
                _details(as_corrected, reveal)
                + (f" (corrected by {corrected})" if corrected else "")
            ),
        )
    console.print(timeline)
    limits = Table(
        Column("limit", overflow="fold"), Column("status", overflow="fold"),
        Column("due", no_wrap=True), Column("done", no_wrap=True), Column("day", no_wrap=True),
        Column("flagged", no_wrap=True), title=f"limits as of {view.today}",
    )  # fmt: skip
    for check in view.checks:
        style = STATUS_STYLES[check.status]
        due = str(check.due) if check.due else "—"
        if check.due and check.provisional:  # under the date, not after it: never cut
            due += "\n(provisional)"
        limits.add_row(
            LIMIT_LABELS[check.limit],
            f"[{style}]{check.status.label}[/]",
            due,
            str(check.done) if check.done else "—",
            str(check.day) if check.day is not None else "—",
            "\n".join(f"{f.level.value}\n{f.at:%m-%d %H:%M}" for f in _flags_on(order, check))
            or "—",
        )
    console.print(limits)
    # The notes under the table, wrapped at spaces: in a column of their own at 80 columns
    # they would be squeezed until a date in them ("extended to 2027-01-29") is cut.
    for check in view.checks:
        if check.note:
            console.print(shown(f"{LIMIT_LABELS[check.limit]}: {check.note}"))
    warn_unpublished(view.unpublished_years)
