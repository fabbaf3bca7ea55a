"""The options several commands share (the period, --as-of and --judged-on, the unit, group
and rubric, the workbook, the alerts' routing file) and what they are read into."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hotline.cli.context import application
from hotline.cli.parsing import parse_day, parse_moment
from hotline.domain.errors import InvalidInput
from hotline.domain.periods import Period, date_range, parse_period
from hotline.domain.units import Level
from hotline.domain.vocabulary import Channel, Kind

if TYPE_CHECKING:  # loaded by the commands that read: `order show` needs none of them
    from hotline.domain.rubric import OrderFilter
    from hotline.service.assessment import Assessment
    from hotline.service.reports import Reports

RoutingOption = Annotated[
    Path | None,
    typer.Option(
        "--routing", help="The routing file (TOML, docs/alerts.md). Default: $HOTLINE_ALERTS."
    ),
]


PeriodOption = Annotated[
    str | None,
    typer.Option(
        help="Assessment year 2019 (2018-11-01 … 2019-10-31), quarter 2019Q1 … 2019Q4 "
        "(Nov–Jan, Feb–Apr, May–Jul, Aug–Oct), or month 2019-03."
    ),
]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Answer as the store stood at this recorded time, YYYY-MM-DD HH:MM (Asia/Shanghai).",
    ),
]
JudgedOnOption = Annotated[
    str | None,
    typer.Option(
        "--judged-on",
        help="Judge the limits on this day, YYYY-MM-DD, with every event that happened by its "
        "end, whenever it was recorded (an order closed later is open on it). Not with --as-of.",
    ),
]
UnitOption = Annotated[str | None, typer.Option(help="One unit (承办单位).")]
GroupOption = Annotated[
    str | None, typer.Option(help="One group: district, municipal, consumer_council.")
]
LevelOption = Annotated[
    Level,
    typer.Option(
        help="bureau: an office's (市场监管所) orders count in its bureau's; office: the "
        "offices themselves (see `hotline units`)."
    ),
]
RubricOption = Annotated[
    str,
    typer.Option(help="A shipped rubric's name (see `hotline rubrics`) or a .toml file."),
]
CategoryOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Only the orders of this category (分类): its first level, then once more per "
        "level below, as `order receive` takes it: --category 市场监管 --category 食品安全.",
        show_default=False,
    ),
]
ChannelOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Only the orders from this channel (来源渠道): 12345 or 12315; a rubric part "
        "that covers other channels then counts none. Repeat for more.",
        show_default=False,
    ),
]
KindOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Only the orders of this kind (工单类型), as `order receive` takes it: complaint "
        "(投诉), report (举报) …; repeat for more.",
        show_default=False,
    ),
]
WorkbookOption = Annotated[
    Path | None, typer.Option("--output", help="Also write the tables to this .xlsx workbook.")
]
RevealOption = Annotated[
    bool,
    typer.Option(
        "--reveal",
        help="Show the citizen's name, phone and address in full; needs --reason, and is "
        "recorded on each order shown.",
    ),
]
ReasonOption = Annotated[
    str | None, typer.Option(help="Why the personal data is needed (with --reveal).")
]


def in_range(option: str, value: int, least: int, most: int | None = None, *, hint: str) -> int:
    """`value` if it is within least..most, else a one-line refusal saying the range and how
    to choose (typer's own min= and max= print a usage screen instead)."""
    if value < least or (most is not None and value > most):
        span = f"at least {least}" if most is None else f"{least} to {most}"
        raise InvalidInput(f"{option} must be {span}, not {value}: {hint}")
    return value


def reveal_reason(reveal: bool, reason: str | None) -> str | None:
    """The reason personal data is shown in full (None: it is shown masked); --reveal
    without --reason, or --reason without --reveal, refused."""
    if reveal and not reason:
        raise InvalidInput(
            "--reveal needs --reason: why the citizen's personal data is needed (it is "
            "recorded with your name)"
        )
    if reason is not None and not reveal:
        raise InvalidInput("--reason goes with --reveal; drop it, or add --reveal")
    return reason if reveal else None


def period_of(period: str | None, start: str | None, end: str | None) -> Period:
    """The period named by --period, or by --from and --to."""
    if period and (start or end):
        raise InvalidInput("give either --period or --from/--to, not both")
    if period:
        return parse_period(period)
    if start and end:
        return date_range(parse_day(start, "--from"), parse_day(end, "--to"))
    raise InvalidInput("give --period (2019, 2019Q1, 2019-03) or both --from and --to")


def order_filter(channel: list[str] | None, kind: list[str] | None) -> OrderFilter:
    """The orders --channel and --kind ask for (every order without them); a value not in
    the vocabulary refused in one line naming the valid ones."""
    from hotline.domain.rubric import OrderFilter

    return OrderFilter(
        channels=None if not channel else tuple(dict.fromkeys(map(Channel.parse, channel))),
        kinds=None if not kind else tuple(dict.fromkeys(map(Kind.parse, kind))),
    )


def as_of_moment(text: str | None) -> datetime | None:
    return parse_moment(text, "--as-of") if text is not None else None


def say_if_nothing_recorded(ctx: typer.Context, as_of: datetime | None) -> None:
    """An all-zero report as of a time before anything was recorded says why on stderr:
    --as-of is recorded time, and a store back-filled later had nothing then."""
    if as_of is None or (first := reports(ctx).nothing_recorded_by(as_of)) is None:
        return
    since = f"the first was recorded at {first:%Y-%m-%d %H:%M}" if first != as_of else "none yet"
    typer.echo(
        f"hotline: nothing was recorded before {as_of:%Y-%m-%d %H:%M} ({since}); --as-of uses "
        "recorded time, when events were logged, not when they happened; to judge the limits "
        f"on that day with every event, use --judged-on {as_of:%Y-%m-%d}",
        err=True,
    )


def reports(ctx: typer.Context, judged_on: str | None = None) -> Reports:
    """The read side of the command's store; judging the limits on the day of --judged-on,
    if given."""
    from hotline.service.reports import Reports

    day = parse_day(judged_on, "--judged-on") if judged_on is not None else None
    return Reports(application(ctx), judged_on=day)


def assessment(ctx: typer.Context, judged_on: str | None = None) -> Assessment:
    """The rubrics applied to the command's store (judged on the day of --judged-on, if
    given)."""
    from hotline.service.assessment import Assessment

    return Assessment(reports(ctx, judged_on))


def orders_document(coverage: dict[str, OrderFilter]) -> dict[str, Any]:
    """The orders each part counted, as a JSON document says it (`channel`, `kind`)."""
    return {"orders": {part: counted.document() for part, counted in coverage.items()}}


def orders_line(coverage: dict[str, OrderFilter]) -> str:
    """The orders each part counted, for a table's title."""
    return "; ".join(f"{part}: {counted.label}" for part, counted in coverage.items())


def period_document(period: Period, today: date, as_of: datetime | None) -> dict[str, Any]:
    """The period and the moment a report answers for, as its JSON document heads them."""
    return {
        "period": period.label,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "judged_on": today.isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
    }
