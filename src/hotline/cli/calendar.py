"""`hotline calendar ...`: the working-day calendar (工作日) and users' amendments to it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hotline.adapters.calendar_file import load_year_schedule
from hotline.cli.context import application
from hotline.cli.output import printable, shown
from hotline.cli.parsing import parse_day
from hotline.cli.render import warn_unpublished
from hotline.domain.calendar import Closure, DayKind, WorkingCalendar
from hotline.domain.errors import CalendarError, InvalidInput

app = typer.Typer(
    help="Working days: a date's status, counts, deadlines; add a published year or a closure.",
    no_args_is_help=True,
)

Day = Annotated[str, typer.Argument(help="A date, YYYY-MM-DD.", show_default=False)]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict", help="Refuse, rather than warn, when a year has no published schedule."
    ),
]
KIND_TEXT = {
    DayKind.WORKDAY: "working day",
    DayKind.WEEKEND: "weekend, off",
    DayKind.HOLIDAY: "holiday, off",
    DayKind.MAKEUP_WORKDAY: "make-up working day (调休上班)",
    DayKind.CLOSURE: "local closure, off",
}


def _warn_unpublished(calendar: WorkingCalendar, start: date, end: date, strict: bool) -> None:
    years = calendar.unpublished_years(min(start, end), max(start, end))
    if not years:
        return
    if strict:
        listed = ", ".join(str(year) for year in years)
        raise CalendarError(
            f"no published holiday schedule for {listed}; add it with "
            "`hotline calendar add-year FILE` (or drop --strict to count without its 调休)"
        )
    warn_unpublished(years)


@app.command()
def day(ctx: typer.Context, when: Day, strict: Strict = False) -> None:
    """Whether a date is a working day, and why."""
    calendar = application(ctx).calendar()
    status = calendar.status(parse_day(when))
    _warn_unpublished(calendar, status.day, status.day, strict)
    why = f" — {printable(status.name)}" if status.name else ""
    local = ""
    if status.local is not None:
        local = f"; closed for {scope(status.local)} only — {printable(status.local.reason)}"
    typer.echo(f"{status.day} {status.day:%A}: {KIND_TEXT[status.kind]}{why}{local}")


def scope(closure: Closure) -> str:
    """Whom a closure closes: `everywhere`, or its districts and units."""
    if closure.everywhere:
        return "everywhere"
    return "、".join(
        printable(name) for name in (*sorted(closure.districts), *sorted(closure.units))
    )


@app.command()
def count(
    ctx: typer.Context,
    start: Annotated[str, typer.Argument(help="From this date (not counted), YYYY-MM-DD.")],
    end: Annotated[str, typer.Argument(help="To this date (counted), YYYY-MM-DD.")],
    strict: Strict = False,
) -> None:
    """Working days after START up to and including END."""
    calendar = application(ctx).calendar()
    first, last = parse_day(start), parse_day(end)
    if last < first:
        raise InvalidInput(
            f"the dates are reversed: {last} is before {first}; give the earlier first, "
            f"`hotline calendar count {last} {first}`"
        )
    _warn_unpublished(calendar, first, last, strict)
    days = calendar.working_days_between(first, last)
    typer.echo(
        f"{days} working {'day' if days == 1 else 'days'} after {first} up to and including {last}"
    )


@app.command()
def deadline(
    ctx: typer.Context,
    received: Annotated[str, typer.Argument(help="The day of receipt, YYYY-MM-DD.")],
    days: Annotated[int, typer.Argument(help="The limit in working days (1, 5, 13 ...).")],
    strict: Strict = False,
) -> None:
    """The last day of a limit of DAYS working days from RECEIVED (day of receipt not counted)."""
    calendar = application(ctx).calendar()
    start = parse_day(received)
    first = calendar.add_working_days(start, 1)
    due = calendar.add_working_days(start, days)
    _warn_unpublished(calendar, start, due, strict)
    day_one = f"day 1 is {first} {first:%a}, " if days > 1 else ""
    typer.echo(f"received {start}: {day_one}day {days} (the deadline) is {due} {due:%A}")


@app.command()
def show(ctx: typer.Context) -> None:
    """The published years, their sources, and the local closures."""
    hotline = application(ctx)
    calendar = hotline.calendar()
    amendments = hotline.amendments()
    console = Console(highlight=False)
    years = Table("year", "source", title="published holiday schedules")
    for year in calendar.published_years:
        added = amendments.years.get(year)
        years.add_row(
            str(year), shown(f"{added.source} (added by a user)" if added else "chinesecalendar")
        )
    console.print(years)
    closures = Table("date", "reason", "scope", title="local closures")
    for closure in sorted(amendments.closures.values(), key=lambda c: c.day):
        closures.add_row(str(closure.day), shown(closure.reason), shown(scope(closure)))
    console.print(closures)


@app.command("add-year")
def add_year(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The year's schedule as TOML (docs/calendar.md).")],
) -> None:
    """Add a newly published year's holidays and make-up workdays (replaces that year)."""
    schedule = load_year_schedule(file)
    application(ctx).publish_year(schedule)
    typer.echo(
        f"{schedule.year}: {len(schedule.holidays)} holiday days and {len(schedule.workdays)} "
        f"make-up workdays added ({printable(schedule.source)}); deadlines use them from now on"
    )


@app.command("add-closure")
def add_closure(
    ctx: typer.Context,
    when: Day,
    reason: Annotated[str, typer.Option(help="Why the day is off, e.g. 台风停工.")],
    unit: Annotated[
        list[str] | None,
        typer.Option(help="Close it only for this unit's orders (a bureau's: its offices' too)."),
    ] = None,
    district: Annotated[
        list[str] | None,
        typer.Option(
            help="Close it only for orders in this district (区), e.g. 浦东新区; repeatable."
        ),
    ] = None,
) -> None:
    """Close a working day locally, such as a typhoon day, everywhere or only for some units
    or districts; deadlines move at the next query."""
    closed = parse_day(when)
    closure = application(ctx).add_closure(closed, reason, unit or (), district or ())
    where = "" if closure.everywhere else f" for {scope(closure)}"
    typer.echo(f"{closed} closed{where}: {printable(reason)}")


@app.command("withdraw-closure")
def withdraw_closure(
    ctx: typer.Context,
    when: Day,
    reason: Annotated[str, typer.Option(help="Why the closure is withdrawn.")],
) -> None:
    """Withdraw a local closure entered by mistake."""
    reopened = parse_day(when)
    application(ctx).withdraw_closure(reopened, reason)
    typer.echo(f"{reopened} is no longer closed")
