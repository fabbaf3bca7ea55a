"""`hotline projections ...`: the read model the reports use."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated

import typer

from hotline.cli.context import application
from hotline.cli.options import reports
from hotline.cli.output import counted, printable
from hotline.cli.verify import Tampered
from hotline.domain.aggregate import now
from hotline.service.projection import (
    POLL_INTERVAL,
    CatchUp,
    OrderProjection,
    follow,
    waiter_for,
)
from hotline.service.rebuild import rebuild as rebuild_in_one_pass

app = typer.Typer(
    help="The read model: where it stands, rebuilding it, following the store.",
    no_args_is_help=True,
)


@app.command()
def status(ctx: typer.Context) -> None:
    """How far the read model has followed the event store."""
    found = reports(ctx).projection.status()
    typer.echo(
        f"read model at notification {found.position} of {found.head}: "
        f"{counted(found.stored, 'event')} stored, {found.lag} not yet applied; "
        f"{counted(found.orders, 'order')}"
    )


@app.command()
def rebuild(
    ctx: typer.Context,
    despite_problems: Annotated[
        bool,
        typer.Option(
            "--despite-problems",
            help="Rebuild even from a store `hotline verify` finds problems in (they are "
            "printed first); the read model's evidence of removed or altered events is lost.",
        ),
    ] = False,
) -> None:
    """Check the store (as `hotline verify`, but no event validated against its model) and
    project every event again, in one pass. A store with problems is not rebuilt from
    unless --despite-problems: the read model keeps the evidence of what was removed or
    altered."""
    projection = reports(ctx).projection
    done = rebuild_in_one_pass(projection, despite_problems)
    for problem in done.found.problems:
        typer.echo(str(problem))
    if done.applied is None:
        raise Tampered(
            f"{done.found.summary()}; the read model was not rebuilt (it keeps the evidence of "
            "removed or altered events; --despite-problems rebuilds all the same): see "
            "docs/verify.md"
        )
    typer.echo(
        f"read model rebuilt from {counted(done.applied, 'event')}; "
        f"{counted(projection.status().orders, 'order')}"
    )


@app.command("follow")
def follow_store(
    ctx: typer.Context,
    interval: Annotated[
        float,
        typer.Option(
            min=0.01,
            help="Seconds between looks at the store for new events (on PostgreSQL the "
            "longest wait: stored events wake it at once).",
        ),
    ] = POLL_INTERVAL,
) -> None:
    """Keep the read model caught up with the store until SIGTERM or Ctrl-C.

    Prints a line for each catch-up that applied events. Reports catch up by themselves;
    this only keeps the read model warm, for fast reports and other readers of its tables."""
    hotline = application(ctx)
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    waiter = waiter_for(hotline)
    how = "as events are stored (LISTEN/NOTIFY) and" if waiter.listens else ""
    try:
        typer.echo(f"following the store {how}every {interval:g} s; stop with SIGTERM or Ctrl-C")
        position = follow(
            OrderProjection(hotline, hotline.readmodel),
            stop,
            on_catch_up=_heard_catch_up,
            on_error=_heard_error,
            waiter=waiter,
            interval=interval,
        )
    finally:
        waiter.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
    where = "before its first catch-up" if position is None else f"read model at event {position}"
    typer.echo(f"stopped following; {where}")


def _heard_catch_up(done: CatchUp) -> None:
    events = "event" if done.applied == 1 else "events"
    typer.echo(
        f"{done.at:%Y-%m-%d %H:%M:%S} applied {done.applied} {events}; "
        f"read model at event {done.position}"
    )


def _heard_error(message: str) -> None:
    print(f"{now():%Y-%m-%d %H:%M:%S} hotline: {printable(message)}", file=sys.stderr, flush=True)
