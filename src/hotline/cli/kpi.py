"""`hotline report kpi`: a targets rubric's targets met or not, per unit, group and
system."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hotline.cli.options import (
    AsOfOption,
    ChannelOption,
    FromOption,
    GroupOption,
    JudgedOnOption,
    KindOption,
    PeriodOption,
    ToOption,
    WorkbookOption,
    as_of_moment,
    assessment,
    order_filter,
    orders_document,
    orders_line,
    period_document,
    period_of,
    say_if_nothing_recorded,
)
from hotline.cli.output import Format, FormatOption, emit
from hotline.cli.rubrics import expect
from hotline.cli.workbook import Highlight, Sheet, write_workbook
from hotline.domain.rubric import OrderFilter, TargetRubric, coverage
from hotline.domain.scoring import half_up
from hotline.service.assessment import TargetBoard


def kpi(
    ctx: typer.Context,
    rubric: Annotated[str, typer.Option(help="A targets rubric or .toml file.")] = "kpi-2023",
    unit: Annotated[str | None, typer.Option(help="One unit.")] = None,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    judged_on: JudgedOnOption = None,
    channel: ChannelOption = None,
    kind: KindOption = None,
    output: FormatOption = Format.TABLE,
    workbook: WorkbookOption = None,
) -> None:
    """Targets met or not met (kpi-2023: on-time ≥ 95%, first contact ≥ 95%,
    dissatisfaction ≤ 10%), per unit, group and system, over the orders the rubric covers
    (kpi-2023: 12345), narrowed by --channel and --kind."""
    service = assessment(ctx, judged_on)
    chosen = expect(service.rubric(rubric), TargetRubric, "kpi")
    asked = order_filter(channel, kind)
    board = service.targets(
        chosen, period_of(period, start, end), unit=unit, group=group,
        as_of=as_of_moment(as_of), orders=asked,
    )  # fmt: skip
    say_if_nothing_recorded(ctx, board.as_of)
    if workbook is not None:
        write_workbook(workbook, [_target_sheet(board, asked)])
    _print_targets(board, output, asked)


VERDICTS = {True: "达标", False: "未达标", None: ""}


def _target_sheet(board: TargetBoard, asked: OrderFilter) -> Sheet:
    """A value column and a verdict column per target; a conditional format fills the
    未达标 ones, so the highlight is the verdict's, not a value compared again."""
    headings = ["name", "level"]
    highlights = []
    for target in board.rubric.target:
        column = len(headings)
        headings += [f"{target.label} {target.threshold}", "达标"]
        highlights += [Highlight(column, column + 1, VERDICTS[False]),
                       Highlight(column + 1, column + 1, VERDICTS[False])]  # fmt: skip
    rows = []
    for row in board.rows:
        cells: list[str | float | None] = [row.name, row.level]
        for result in row.results:
            value = None if result.value is None else float(half_up(result.value, 2))
            cells += [value, VERDICTS[result.met] or None]
        rows.append(cells)
    return Sheet(
        name=board.rubric.name,
        titles=[board.rubric.title, board.period.label,
                f"orders: {orders_line(coverage(board.rubric, asked))}"],
        headings=headings,
        rows=rows,
        formats=[None, None, *(["0.00", None] * len(board.rubric.target))],
        highlights=highlights,
        frozen_columns=1,
    )  # fmt: skip


def _print_targets(board: TargetBoard, output: Format, asked: OrderFilter) -> None:
    counted = coverage(board.rubric, asked)
    columns = [("name", "name"), ("level", "level")]
    for target in board.rubric.target:
        columns.append((target.metric, f"{target.label} {target.threshold}"))
        if output is not Format.TABLE:
            columns.append((f"{target.metric}_met", f"{target.metric}_met"))
    rows = []
    for row in board.rows:
        shown: dict[str, Any] = {"name": row.name, "level": row.level}
        for result in row.results:
            key = result.target.metric
            value = None if result.value is None else float(half_up(result.value, 2))
            if output is Format.TABLE:
                verdict = VERDICTS[result.met]
                shown[key] = None if value is None else f"{value:.2f} {verdict}"
            else:
                shown[key], shown[f"{key}_met"] = value, result.met
        rows.append(shown)
    emit(
        rows,
        columns,
        output,
        title=f"{board.rubric.title}, {board.period.label} (orders: {orders_line(counted)})",
        document={
            "rubric": board.rubric.name,
            **period_document(board.period, board.today, board.as_of),
            **orders_document(counted),
        },
    )
