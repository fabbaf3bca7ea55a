"""`hotline report ...`: the assessment's numbers per unit, group and system, and the
orders behind them."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hotline.cli.options import (
    AsOfOption,
    CategoryOption,
    ChannelOption,
    FromOption,
    GroupOption,
    JudgedOnOption,
    KindOption,
    LevelOption,
    PeriodOption,
    ToOption,
    UnitOption,
    as_of_moment,
    assessment,
    order_filter,
    orders_document,
    orders_line,
    period_document,
    period_of,
    reports,
    say_if_nothing_recorded,
)
from hotline.cli.output import Format, FormatOption, emit
from hotline.domain.errors import InvalidInput
from hotline.domain.metrics import Metric, MetricValue
from hotline.domain.periods import Period
from hotline.domain.rubric import OrderFilter, coverage
from hotline.domain.scoring import COST_DECIMALS, half_up
from hotline.domain.units import Level

if TYPE_CHECKING:  # loaded by the command that uses it
    from hotline.service.assessment import Assessment


def shown_value(metric: Metric, value: MetricValue, output: Format) -> float | int | str | None:
    """A metric's value as `report rates` shows it (and `report trend`, so they agree)."""
    if value.value is None:
        return None
    if (exact := metric.exact(value)) is not None:
        return f"{exact}" if output is Format.TABLE else float(exact)
    if output is Format.TABLE:
        return f"{value.value:.{metric.decimals}f}"
    return round(value.value, metric.decimals) if metric.decimals else round(value.value)


def rates(
    ctx: typer.Context,
    unit: UnitOption = None,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    judged_on: JudgedOnOption = None,
    category: CategoryOption = None,
    level: LevelOption = Level.BUREAU,
    channel: ChannelOption = None,
    kind: KindOption = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """Volume, first-contact, on-time, return, resolution and satisfaction per unit (of the
    orders of --channel and --kind, if given)."""
    found = reports(ctx, judged_on).rates(
        period_of(period, start, end), unit=unit, group=group, as_of=as_of_moment(as_of),
        category=category or (), level=level, orders=order_filter(channel, kind),
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for row in found.rows:
        shown: dict[str, Any] = {"name": row.name, "level": row.level, "group": row.group}
        for metric in found.metrics:
            value = row.values[metric.key]
            shown[metric.key] = shown_value(metric, value, output)
            if output is not Format.TABLE and value.denominator is not None:
                shown[f"{metric.key}_numerator"] = round(value.numerator, 2)
                shown[f"{metric.key}_denominator"] = value.denominator
        rows.append(shown)
    columns = [("name", "unit"), *((m.key, f"{m.label}{m.unit and ' ' + m.unit}")
                                    for m in found.metrics)]  # fmt: skip
    if output is not Format.TABLE:
        columns = [("name", "name"), ("level", "level"), ("group", "group")] + [
            (key, key) for key in rows[0] if key not in {"name", "level", "group"}
        ]
    title = (
        f"{found.period.label} ({found.period.start} … {found.period.end}), "
        f"limits judged on {found.today}, orders: {found.orders.label}"
    )
    if output is Format.TABLE:
        _print_in_widths(rows, columns, title)
        say_if_nothing_recorded(ctx, found.as_of)
        return
    emit(
        rows,
        columns,
        output,
        title=title,
        document={
            **period_document(found.period, found.today, found.as_of),
            "orders": found.orders.document(),
        },
    )
    say_if_nothing_recorded(ctx, found.as_of)


def _print_in_widths(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], title: str
) -> None:
    """The rates as one table where the terminal is wide enough, else as several, each
    with the unit and as many metrics as fit (21 metrics are about 300 columns: squeezed
    into 120, rich broke every heading and number over lines)."""
    from rich.console import Console
    from rich.table import Column, Table

    from hotline.cli.output import WIDE, shown

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=WIDE)

    def table(chosen: list[tuple[str, str]], heading: str | None) -> Table:
        made = Table(
            *(Column(shown(h)) for _, h in chosen), title=shown(heading) if heading else None
        )
        for row in rows:
            made.add_row(*(shown("—" if row.get(k) is None else row[k]) for k, _ in chosen))
        return made

    def width(chosen: list[tuple[str, str]]) -> int:
        unbounded = console.options.update_width(WIDE)  # else capped at the terminal's
        return console.measure(table(chosen, None), options=unbounded).maximum

    parts: list[list[tuple[str, str]]] = [list(columns)]
    if console.is_terminal:  # piped: one table, as wide as it is
        # A column adds its own width, padding and border whatever its neighbours: each
        # measured once beside the unit (measuring each growing table was seconds).
        unit = width([columns[0]])
        parts, used = [[columns[0]]], unit
        for column in columns[1:]:
            added = width([columns[0], column]) - unit
            if len(parts[-1]) > 1 and used + added > console.width:
                parts, used = [*parts, [columns[0]]], unit
            parts[-1].append(column)
            used += added
    for number, part in enumerate(parts):
        console.print(table(part, title if number == 0 else None))


def explain(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option(help="The unit (承办单位).")],
    metric: Annotated[
        str | None, typer.Option(help="Only this metric (a key of `report rates --format json`).")
    ] = None,
    rubric: Annotated[
        str | None,
        typer.Option(help="Instead: the orders and findings that cost points under this rubric."),
    ] = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    judged_on: JudgedOnOption = None,
    category: CategoryOption = None,
    level: LevelOption = Level.BUREAU,
    channel: ChannelOption = None,
    kind: KindOption = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """The orders behind a unit's numbers: late, not contacted in time, returned late,
    rated 不满意 … With --rubric: what cost the unit its points, and how many (each part
    over the orders it covers). --channel and --kind narrow the orders."""
    chosen = period_of(period, start, end)
    asked = order_filter(channel, kind)
    if rubric is not None:
        if metric is not None:
            raise InvalidInput("give either --metric or --rubric, not both")
        if category:
            raise InvalidInput("--category is for the metrics' orders, not with --rubric")
        service = assessment(ctx, judged_on)
        _explain_points(service, rubric, unit, chosen, as_of_moment(as_of), level, asked, output)
        return
    missed = reports(ctx, judged_on).explain(
        chosen, unit, metric, as_of_moment(as_of), category or (), level, asked
    )
    rows = [
        {"metric": f.metric.key, "label": f.metric.label, "order": f.number, "reason": f.reason}
        for f in missed
    ]
    emit(
        rows,
        [("label", "metric"), ("order", "order"), ("reason", "why")],
        output,
        title=f"{unit}, {chosen.label}: {len(rows)} orders behind the numbers "
        f"(orders: {asked.label})",
        document={"unit": unit, "period": chosen.label, "orders": asked.document()},
    )


def _explain_points(
    service: Assessment,
    name: str,
    unit: str,
    period: Period,
    as_of: datetime | None,
    level: Level,
    asked: OrderFilter,
    output: Format,
) -> None:
    rubric = service.rubric(name)
    costs = service.explain(rubric, period, unit, as_of, level, asked)
    counted = coverage(rubric, asked)
    rows = [
        {"where": c.where, "item": c.item, "source": c.source, "reason": c.reason,
         "points": _points(c.points, output)}
        for c in costs
    ]  # fmt: skip
    emit(
        rows,
        [
            ("where", "where"),
            ("item", "item"),
            ("source", "order / finding"),
            ("reason", "why"),
            ("points", "points"),
        ],
        output,
        title=f"{service.units.get(unit).name}, {rubric.name}, {period.label}: "
        f"{len(rows)} orders and findings that cost points (before caps; orders: "
        f"{orders_line(counted)})",
        document={
            "unit": unit,
            "rubric": rubric.name,
            "period": period.label,
            **orders_document(counted),
        },
    )


def _points(value: Fraction, output: Format) -> float | str:
    """Points to 4 decimals: a number for programs, without trailing zeros for people."""
    rounded = half_up(value, COST_DECIMALS)
    return float(rounded) if output is Format.JSON else f"{rounded.normalize():f}"
