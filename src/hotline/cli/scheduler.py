"""`hotline scheduler run` (the daemon, delivering alerts after each pass when routing is
configured), `tick` (one pass, for cron or a systemd timer) and `status`."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime, time
from typing import Annotated

import typer

from hotline.cli.context import application
from hotline.cli.options import RoutingOption, in_range
from hotline.cli.output import printable
from hotline.cli.parsing import parse_moment
from hotline.domain.aggregate import now
from hotline.domain.errors import InvalidInput
from hotline.service.flagging import Failure, Pass, flag_due_orders
from hotline.service.reports import Reports
from hotline.service.scheduler import DEFAULT_TIMES, Daemon, Job, Started, stored_job

app = typer.Typer(help="The overdue scheduler: flag orders near or past a limit.")

MOST_WINDOW = 13  # working days: the longest time limit a rule gives

WindowOption = Annotated[
    int,
    typer.Option(
        help="Flag limits due within this many working days after today (0: by the end of today).",
    ),
]


def _check_window(window: int) -> None:
    in_range("--window", window, 0, MOST_WINDOW, hint="working days after today, 0 for "
             "limits due by the end of today")  # fmt: skip


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
    _check_window(window)
    moment = parse_moment(as_of, "--as-of") if as_of is not None else None
    done = flag_due_orders(application(ctx), moment, window)
    typer.echo(_summary(done))
    for failure in done.failed:
        print("hotline:", *_failed(failure).split(), file=sys.stderr)
    if done.failed:
        raise typer.Exit(1)


@app.command()
def run(
    ctx: typer.Context,
    at: Annotated[
        str,
        typer.Option(
            "--at", help="The times of day of the passes, HH:MM[,HH:MM...] (Asia/Shanghai)."
        ),
    ] = ",".join(f"{t:%H:%M}" for t in DEFAULT_TIMES),
    window: WindowOption = 0,
    routing_file: RoutingOption = None,
) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C: a pass at the given times every day.

    Its job is kept in the store's database: a restart keeps it, and passes missed while
    it was stopped are caught up by one pass. With a routing file (--routing or
    $HOTLINE_ALERTS) each pass's flags are then delivered (docs/alerts.md)."""
    from hotline.cli.alerts import routing, summary  # the outbox and channels: `run` alone
    from hotline.service.alerts import deliver

    _check_window(window)
    stop = threading.Event()
    times = _times(at)
    routes = routing(ctx, routing_file)  # a broken file stops the start, nothing sent
    app = application(ctx)

    def heard(done: Pass) -> None:
        _heard_pass(done)
        if routes is not None:  # after the pass, never inside its flagging
            try:
                typer.echo(f"{_stamp()} {summary(deliver(Reports(app), routes))}")
            except Exception as error:  # a delivery's failure is never the daemon's
                _heard_error(f"delivery failed: {error}")

    daemon = Daemon(app, times, window, on_pass=heard, on_error=_heard_error)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    started = daemon.start()
    try:
        kept = "job kept from the last run" if started.kept else "job scheduled"
        typer.echo(f"scheduler running: {_schedule(started.job)}; {kept}; " + _catching_up(started))
        while not stop.wait(1.0):
            pass
        typer.echo("stopping after the pass under way, if any …")
    finally:
        daemon.stop()
    typer.echo("scheduler stopped; its job stays in the store (`hotline scheduler status`)")


@app.command()
def status(ctx: typer.Context) -> None:
    """The scheduled pass as kept in the store: its times, window and next run."""
    job = stored_job(application(ctx))
    if job is None:
        typer.echo("no scheduler has run on this store; start one with `hotline scheduler run`")
        return
    typer.echo(f"{_schedule(job)}; {_next(job)}")


def _catching_up(started: Started) -> str:
    """The start line's end: the pass made at once, if any, else the next one."""
    if started.catch_up is None:
        return _next(started.job)
    if started.catch_up.date() == now().date():
        return f"catching up today's {started.catch_up:%H:%M} pass now"
    return f"passes missed since {started.catch_up:%Y-%m-%d %H:%M}: one pass catches up now"


def _schedule(job: Job) -> str:
    times = ", ".join(f"{t:%H:%M}" for t in job.times)
    return f"passes at {times} Asia/Shanghai, window {job.window}"


def _next(job: Job) -> str:
    return f"next pass {job.next_run:%Y-%m-%d %H:%M}" if job.next_run else "no next pass (paused)"


def _times(text: str) -> tuple[time, ...]:
    try:
        times = tuple(time.fromisoformat(part.strip()) for part in text.split(","))
    except ValueError:
        raise InvalidInput(
            f"--at {text!r} is not a list of times of day; write HH:MM[,HH:MM...], e.g. 08:00,12:00"
        ) from None
    if any(t.second or t.microsecond or t.tzinfo for t in times):
        raise InvalidInput(f"--at {text!r}: give hours and minutes only, e.g. 08:00,12:00")
    return times


def _summary(done: Pass) -> str:
    if not done.working_day:
        return f"{done.day} is not a working day: nothing is due, nothing flagged"
    counts = f"{len(done.flagged)} flagged, {done.already} flagged before"
    if done.failed:
        counts += f", {len(done.failed)} could not be flagged (below)"
    return f"{done.day}: {counts}" + "".join(
        f"\n  {f.level.value:9} {f.limit:13} {f.number} ({printable(f.unit)}), due {f.due}"
        for f in done.flagged
    )


def _failed(failure: Failure) -> str:
    return f"order {failure.number} not flagged: {failure.message}; the pass went on"


def _heard_pass(done: Pass) -> None:
    typer.echo(f"{_stamp()} pass: {_summary(done)}")
    for failure in done.failed:
        _heard_error(_failed(failure))


def _heard_error(message: str) -> None:
    print(f"{_stamp()} hotline: {printable(message)}", file=sys.stderr, flush=True)


def _stamp() -> str:
    moment: datetime = now()
    return f"{moment:%Y-%m-%d %H:%M:%S}"
