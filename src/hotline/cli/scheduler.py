"""`hotline scheduler tick` (one pass, for cron or a systemd timer) and `hotline alerts`
(the feed of flags, for the person on duty or another program)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from hotline.cli.context import application
from hotline.cli.output import Format, emit
from hotline.cli.parsing import parse_moment
from hotline.cli.report import reports
from hotline.service.flagging import flag_due_orders

app = typer.Typer(help="The overdue scheduler: flag orders near or past a limit.")

WindowOption = Annotated[
    int,
    typer.Option(
        min=0,
        max=13,
        help="Flag limits due within this many working days after today (0: by the end of today).",
    ),
]


@app.command()
def tick(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Pass as at this time, YYYY-MM-DD HH:MM (Asia/Shanghai)."),
    ] = None,
    window: WindowOption = 0,
) -> None:
    """One pass: flag open orders due soon or overdue, each (order, limit, level) once."""
    moment = parse_moment(as_of, "--as-of") if as_of else None
    done = flag_due_orders(application(ctx), moment, window)
    if not done.working_day:
        typer.echo(f"{done.day} is not a working day: nothing is due, nothing flagged")
        return
    typer.echo(
        f"{done.day}: {len(done.flagged)} flagged, {done.already} flagged before"
        + "".join(
            f"\n  {f.level.value:9} {f.limit:13} {f.number} ({f.unit}), due {f.due}"
            for f in done.flagged
        )
    )


class FeedFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"


def alerts(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="Only flags made at or after this time, YYYY-MM-DD HH:MM."),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit's orders.")] = None,
    output: Annotated[
        FeedFormat, typer.Option("--format", help="table (for people) or jsonl (one per line).")
    ] = FeedFormat.TABLE,
) -> None:
    """The alert feed: every flag the scheduler recorded, oldest first."""
    found = reports(ctx).alerts(parse_moment(since, "--since") if since else None, unit)
    rows = [
        {"at": f.at.isoformat(), "order": f.number, "unit": f.unit, "limit": f.limit,
         "level": f.level, "due": f.due.isoformat()}
        for f in found
    ]  # fmt: skip
    if output is FeedFormat.JSONL:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    columns = [("at", "flagged at"), ("level", "level"), ("limit", "limit"), ("order", "order"),
               ("unit", "unit"), ("due", "due")]  # fmt: skip
    emit(rows, columns, Format.TABLE, title=f"{len(rows)} alerts")
