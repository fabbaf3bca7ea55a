"""`hotline audit`: who recorded what (录入人), and every correction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from hotline.cli.context import application
from hotline.cli.output import Format, FormatOption, counted, emit
from hotline.cli.parsing import parse_day
from hotline.cli.renamed import renamed
from hotline.domain.aggregate import recorded_by
from hotline.domain.errors import InvalidInput
from hotline.service.audit import order_trail, trail


def _time(moment: datetime, output: Format) -> str:
    """To the second in a table, ISO 8601 to the microsecond for programs."""
    return f"{moment:%Y-%m-%d %H:%M:%S}" if output is Format.TABLE else moment.isoformat()


def _recorder(actor: str | None, role: str | None, output: Format) -> dict[str, str | None]:
    """Who recorded an event: `role (actor)` in a table, the two fields for programs."""
    if output is Format.TABLE:
        return {"actor": recorded_by(actor, role)}
    return {"actor": actor, "role": role}


def _actor_columns(output: Format) -> list[tuple[str, str]]:
    """Who recorded: `actor`, not `by` (a first contact's field: who called the citizen)."""
    columns = [("actor", "actor")]
    return columns if output is Format.TABLE else [*columns, ("role", "role")]


def audit(
    ctx: typer.Context,
    number: Annotated[
        str | None,
        typer.Argument(help="One order's whole trail (工单编号).", show_default=False),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit's orders and findings.")] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only what this actor (or role) recorded.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Recorded on or after this day, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Recorded on or before this day, YYYY-MM-DD.")
    ] = None,
    output: FormatOption = Format.TABLE,
    by: Annotated[str | None, typer.Option("--by", hidden=True)] = None,
) -> None:
    """The audit trail: every event with when it was recorded and by whom, oldest first;
    corrections show what they changed. Personal data shows masked."""
    recorder = renamed(actor, by, "--actor", "--by")
    hotline = application(ctx)
    if number is not None:
        if unit or recorder or start or end:
            raise InvalidInput(
                "give an order number, or filters (--unit --actor --from --to), not both"
            )
        order, entries = order_trail(hotline, number)
        rows = [
            {"version": e.version, "recorded": _time(e.recorded, output),
             **_recorder(e.actor, e.role, output), "event": e.event,
             "at": _time(e.happened, output),
             "detail": e.detail,
             "corrected_by": " ".join(f"#{v}" for v in e.corrected_by) or None}
            for e in entries
        ]  # fmt: skip
        columns = [("version", "#"), ("recorded", "recorded"), *_actor_columns(output),
                   ("event", "event"), ("at", "happened"), ("detail", "as recorded"),
                   ("corrected_by", "corrected by")]  # fmt: skip
        emit(rows, columns, output, title=f"order {order.number}: {counted(len(rows), 'event')}",
             document={"order": order.number, "unit": order.unit})  # fmt: skip
        return
    since = parse_day(start, "--from") if start is not None else None
    until = parse_day(end, "--to") if end is not None else None
    if since and until and until < since:
        raise InvalidInput(f"--to {until} is before --from {since}")
    found = trail(hotline, unit, recorder, since, until)
    rows = [
        {"recorded": _time(r.recorded, output), **_recorder(r.actor, r.role, output),
         "event": r.event,
         "order": r.order, "finding": r.finding, "unit": r.unit, "version": r.version,
         "detail": r.detail or None}
        for r in found
    ]  # fmt: skip
    columns = [("recorded", "recorded"), *_actor_columns(output), ("event", "event"),
               ("order", "order"), ("unit", "unit"), ("version", "#"),
               ("detail", "detail")]  # fmt: skip
    emit(rows, columns, output, title=f"{counted(len(rows), 'event')} recorded")
