"""`hotline report trend`: each metric month by month or quarter by quarter, a sparkline per
row, and with --rubric each unit's rank period by period (who moved up, who down)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hotline.cli.options import (
    ChannelOption,
    GroupOption,
    JudgedOnOption,
    KindOption,
    UnitOption,
    WorkbookOption,
    assessment,
    order_filter,
)
from hotline.cli.output import Format, FormatOption, emit, points
from hotline.cli.report import shown_value
from hotline.cli.sparkline import sparkline
from hotline.cli.workbook import Lines, Sheet, write_workbook
from hotline.domain.errors import InvalidInput
from hotline.domain.periods import Step, month_span
from hotline.service.trends import Trend, Trends


def trend(
    ctx: typer.Context,
    unit: UnitOption = None,
    group: GroupOption = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First month, YYYY-MM (2018-11).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (2019-10).")] = None,
    by: Annotated[
        Step, typer.Option(help="month, or quarter (the assessment year's: Nov–Jan, Feb–Apr …).")
    ] = Step.MONTH,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this metric (a key of `report rates --format json`); repeat for more.",
            show_default=False,
        ),
    ] = None,
    rubric: Annotated[
        str | None,
        typer.Option(help="Also each unit's score and rank under this rubric, period by period."),
    ] = None,
    channel: ChannelOption = None,
    kind: KindOption = None,
    judged_on: JudgedOnOption = None,
    output: FormatOption = Format.TABLE,
    workbook: WorkbookOption = None,
) -> None:
    """Each metric per month or quarter, as `report rates` gives it for that period, with
    a sparkline per row; with --rubric, the units' ranks per period and how far each
    moved."""
    if start is None or end is None:
        raise InvalidInput("give --from and --to, months YYYY-MM: --from 2018-11 --to 2019-10")
    service = assessment(ctx, judged_on)
    chosen = service.rubric(rubric) if rubric is not None else None
    found = Trends(service).trend(
        month_span(start, end, by), unit=unit, group=group, metrics=metric or (),
        rubric=chosen, orders=order_filter(channel, kind),
    )  # fmt: skip
    if workbook is not None:
        write_workbook(workbook, trend_sheets(found))
    labels = [p.label for p in found.periods]
    title = (
        f"{labels[0]} … {labels[-1]} by {by}, limits judged on {found.today}, "
        f"orders: {found.orders.label}"
    )
    if output is not Format.TABLE:
        rows = _value_rows(found, output) + _rank_rows(found, output)
        columns = [(k, k) for k in ("name", "level", "group", "metric", *labels)]
        emit(rows, columns + ([("moved", "moved")] if found.ranks else []), output,
             document=_document(found, by))  # fmt: skip
        return
    emit(
        _value_rows(found, output),
        [("name", "unit"), ("label", "metric"), *((k, k) for k in labels), ("trend", "trend")],
        output,
        title=title,
    )
    if found.ranks:
        emit(
            _rank_rows(found, output),
            [("name", "unit"), *((k, k) for k in labels), ("moved", "moved"), ("trend", "trend")],
            output,
            title=f"rank (score) under {found.rubric}, within each group; moved: places gained "
            f"from {labels[0]} to {labels[-1]}",
        )


def _value_rows(found: Trend, output: Format) -> list[dict[str, Any]]:
    rows = []
    for row in found.rows:
        shown: dict[str, Any] = {
            "name": row.name, "level": row.level, "group": row.group, "metric": row.metric.key,
            "label": f"{row.metric.label}{row.metric.unit and ' ' + row.metric.unit}",
        }  # fmt: skip
        for period, value in zip(found.periods, row.values, strict=True):
            shown[period.label] = None if value is None else shown_value(row.metric, value, output)
        shown["trend"] = sparkline([None if v is None else v.value for v in row.values])
        rows.append(shown)
    return rows


def _rank_rows(found: Trend, output: Format) -> list[dict[str, Any]]:
    """With a table, a row per unit (rank and score in a cell); for programs, a `score` row
    and a `rank` row per unit, as the metrics' rows."""
    rows: list[dict[str, Any]] = []
    for row in found.ranks:
        head = {"name": row.unit, "level": "unit", "group": row.group}
        ranks = [None if s is None else s.rank for s in row.standings]
        scores = [None if s is None else points(s.score, output, trim=False) for s in row.standings]
        labels = [p.label for p in found.periods]
        if output is Format.TABLE:
            cells = {
                label: None if rank is None else f"{rank} ({score})"
                for label, rank, score in zip(labels, ranks, scores, strict=True)
            }
            trend = sparkline([None if r is None else -r for r in ranks])
            rows.append({**head, **cells, "moved": _moved(row.moved), "trend": trend})
            continue
        rows.append({**head, "metric": "score", **dict(zip(labels, scores, strict=True))})
        rows.append({**head, "metric": "rank", **dict(zip(labels, ranks, strict=True)),
                     "moved": row.moved})  # fmt: skip
    return rows


def _moved(places: int | None) -> str | None:
    if places is None:
        return None
    return "=" if places == 0 else f"↑{places}" if places > 0 else f"↓{-places}"


def _document(found: Trend, by: Step) -> dict[str, Any]:
    return {
        "from": found.periods[0].start.isoformat(),
        "to": found.periods[-1].end.isoformat(),
        "by": by.value,
        "periods": [p.label for p in found.periods],
        "judged_on": found.today.isoformat(),
        "metrics": [m.key for m in found.metrics],
        "rubric": found.rubric,
        "orders": found.orders.document(),
    }


def trend_sheets(found: Trend, name: str = "trend") -> list[Sheet]:
    """The trend as a sheet with a line chart per unit (its rates and scores; counts such as
    the volume are on another scale and left out of the chart), and the ranks' sheet."""
    labels = [p.label for p in found.periods]
    rows = _value_rows(found, Format.JSON)
    keys = ["name", "label", *labels]
    charts: dict[str, list[int]] = {}
    for index, row in enumerate(found.rows):
        if row.metric.denominator is not None:
            charts.setdefault(row.name, []).append(index)
    titles = [f"{labels[0]} … {labels[-1]}", f"orders: {found.orders.label}"]
    sheets = [
        Sheet(
            name=name,
            titles=titles,
            headings=["unit", "metric", *labels],
            rows=[[r[k] for k in keys] for r in rows],
            formats=[None] * len(keys),
            charts=[Lines(unit, lines, 1, 2, len(keys) - 1) for unit, lines in charts.items()],
            frozen_columns=2,
            blank=True,
        )
    ]
    if found.ranks:
        ranked = _rank_rows(found, Format.JSON)
        sheets.append(
            Sheet(
                name=f"{name} ranks",
                titles=[*titles, f"rubric {found.rubric}"],
                headings=["unit", "", *labels, "moved"],
                rows=[
                    [r["name"], r["metric"], *(r[k] for k in labels), r.get("moved")]
                    for r in ranked
                ],
                formats=[None] * (len(labels) + 3),
                frozen_columns=2,
                blank=True,
            )
        )
    return sheets
