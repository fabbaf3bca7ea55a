"""`hotline alerts`: the feed of flags (plain `hotline alerts`), and their delivery to
robots, mail and webhooks: `deliver` (one pass, for cron), `deliveries`, `check`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from hotline.adapters.alert_outbox import Outbox
from hotline.adapters.alert_routing import Route, read_routing
from hotline.cli.context import settings
from hotline.cli.options import RoutingOption, reports
from hotline.cli.output import Format, counted, emit, json_text, printable
from hotline.cli.parsing import parse_moment
from hotline.domain.errors import InvalidInput
from hotline.service.alerts import DeliveryPass, check, deliver

app = typer.Typer(
    help="The alert feed (every flag), and the flags' delivery to robots, mail and webhooks.",
    invoke_without_command=True,
)


class ListFormat(StrEnum):
    """The feed's and the deliveries' output: a table for people, JSON Lines for programs."""

    TABLE = "table"
    JSONL = "jsonl"


@app.callback()
def feed(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="Only flags made at or after this time, YYYY-MM-DD HH:MM."),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit's orders.")] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", help="table (for people) or jsonl (one per line).")
    ] = ListFormat.TABLE,
) -> None:
    """The alert feed: every flag the scheduler recorded, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    found = reports(ctx).alerts(parse_moment(since, "--since") if since is not None else None, unit)
    rows = [
        {"at": f.at.isoformat(), "order": f.number, "unit": f.unit, "limit": f.limit,
         "level": f.level, "due": f.due.isoformat()}
        for f in found
    ]  # fmt: skip
    columns = [("at", "flagged at"), ("level", "level"), ("limit", "limit"), ("order", "order"),
               ("unit", "unit"), ("due", "due")]  # fmt: skip
    _listed(rows, columns, output, counted(len(rows), "alert"))


def _listed(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], output: ListFormat, title: str
) -> None:
    """`rows` as JSON Lines (every key) or as a table of `columns` under `title`."""
    if output is ListFormat.JSONL:
        for row in rows:
            typer.echo(json_text(row, indent=None))
    else:
        emit(rows, columns, Format.TABLE, title=title)


def routing(ctx: typer.Context, given: Path | None) -> tuple[Route, ...] | None:
    """The routes of `--routing`, else of HOTLINE_ALERTS; None when neither is set."""
    path = given or settings(ctx).alerts
    return None if path is None else read_routing(path)


def _routes(ctx: typer.Context, given: Path | None) -> tuple[Route, ...]:
    found = routing(ctx, given)
    if found is None:
        raise InvalidInput("no routing file: give --routing FILE or set HOTLINE_ALERTS")
    return found


@app.command("deliver")
def deliver_command(
    ctx: typer.Context,
    routing_file: RoutingOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Where a route seen for the first time starts, YYYY-MM-DD HH:MM "
            "(default: the start of today)."
        ),
    ] = None,
) -> None:
    """One delivery pass (for cron): each flag not yet delivered, to each route it takes."""
    routes = _routes(ctx, routing_file)
    start = parse_moment(since, "--since") if since is not None else None
    done = deliver(reports(ctx), routes, since=start)
    typer.echo(summary(done))
    if any(r.failed for r in done.routes):
        raise typer.Exit(1)


def summary(done: DeliveryPass) -> str:
    """One line per route: what it sent, what failed and why."""
    lines = []
    for r in done.routes:
        line = f"{r.route}: {counted(r.alerts, 'alert')} in {counted(r.messages, 'message')}"
        if r.failed:
            line += f"; failed: {printable(r.failed)}"
        if r.waiting:
            line += f"; {counted(r.waiting, 'alert')} waiting for a retry"
        lines.append(line)
    return f"delivery {done.at:%Y-%m-%d %H:%M}: " + ("; ".join(lines) or "no routes")


@app.command()
def deliveries(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only the failed ones.")] = False,
    route: Annotated[str | None, typer.Option(help="Only this route's.")] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or jsonl (one per line).")
    ] = ListFormat.TABLE,
) -> None:
    """What went where, when, and what failed with the receiver's own message."""
    found = Outbox(reports(ctx).current().engine).deliveries(route, failed)
    rows = [
        {"tried": d.tried.isoformat(), "route": d.route, "channel": d.channel,
         "status": d.status, "attempts": d.attempts, "order": d.number, "unit": d.unit,
         "limit": d.limit, "level": d.level, "due": d.due.isoformat(), "message": d.message,
         "next_try": d.next_try.isoformat() if d.next_try else None, "response": d.response}
        for d in found
    ]  # fmt: skip
    columns = [("tried", "tried"), ("route", "route"), ("status", "status"),
               ("attempts", "attempts"), ("order", "order"), ("limit", "limit"),
               ("level", "level"), ("due", "due"), ("response", "response")]  # fmt: skip
    _listed(rows, columns, output, counted(len(rows), "delivery", "deliveries"))


@app.command("check")
def check_command(ctx: typer.Context, routing_file: RoutingOption = None) -> None:
    """Send each route one test message; exit 1 if any fails."""
    failed = False
    for name, why in check(_routes(ctx, routing_file)):
        if why is None:
            typer.echo(f"{name}: ok")
        else:
            failed = True
            print(f"hotline: route {name}: {printable(why)}", file=sys.stderr)
    if failed:
        raise typer.Exit(1)
