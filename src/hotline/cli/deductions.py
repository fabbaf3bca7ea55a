"""`hotline report deductions`: the points each unit lost under a deduction rubric, part by
part, or item by item for one unit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from hotline.cli.options import (
    AsOfOption,
    ChannelOption,
    FromOption,
    GroupOption,
    JudgedOnOption,
    KindOption,
    LevelOption,
    PeriodOption,
    RubricOption,
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
from hotline.cli.output import Format, FormatOption, emit, points
from hotline.cli.rubrics import expect
from hotline.cli.workbook import Sheet, write_workbook
from hotline.domain.rubric import DeductionRubric, OrderFilter, coverage
from hotline.domain.scoring import shown_points
from hotline.domain.units import Level
from hotline.service.assessment import DeductionBoard


def deductions(
    ctx: typer.Context,
    rubric: RubricOption,
    unit: Annotated[str | None, typer.Option(help="One unit, item by item.")] = None,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    judged_on: JudgedOnOption = None,
    level: LevelOption = Level.BUREAU,
    channel: ChannelOption = None,
    kind: KindOption = None,
    output: FormatOption = Format.TABLE,
    workbook: WorkbookOption = None,
) -> None:
    """Points lost per unit under a deduction rubric (market-office-2017: Ⅵ-8-5, Ⅵ-8-1;
    `--level office` scores the offices it is written for); each part over the orders it
    covers, narrowed by --channel and --kind."""
    service = assessment(ctx, judged_on)
    chosen = expect(service.rubric(rubric), DeductionRubric, "deductions")
    asked = order_filter(channel, kind)
    board = service.deductions(
        chosen, period_of(period, start, end), unit=unit, group=group,
        as_of=as_of_moment(as_of), level=level, orders=asked,
    )  # fmt: skip
    say_if_nothing_recorded(ctx, board.as_of)
    if unit is not None and len(board.rows) == 1:
        _deduction_items(board, output, workbook, asked)
        return
    columns = [("unit", "承办部门"), ("group", "group")]
    for part in chosen.part:
        columns += [
            (f"{part.key}_lost", f"{part.label} 扣分"),
            (part.key, f"得分（{part.points}）"),
        ]
    columns.append(("score", f"合计（{sum(p.points for p in chosen.part)}）"))

    def rows(shape: Format) -> list[dict[str, Any]]:
        found = []
        for row in board.rows:
            shown: dict[str, Any] = {"unit": row.unit, "group": row.group}
            for scored in row.parts:
                shown[f"{scored.key}_lost"] = points(scored.lost, shape)
                shown[scored.key] = points(scored.score, shape)
            shown["score"] = points(row.score, shape)
            found.append(shown)
        return found

    if workbook is not None:
        write_workbook(workbook, [_flat_sheet(chosen.name, board, columns, rows(Format.JSON))])
    counted = coverage(chosen, asked)
    document = {
        "rubric": chosen.name,
        **period_document(board.period, board.today, board.as_of),
        **orders_document(counted),
    }
    if output is Format.JSON:
        document["units"] = [_deduction_json(row) for row in board.rows]
        emit([], [], output, document=document)
    else:
        title = f"{chosen.title}, {board.period.label} (orders: {orders_line(counted)})"
        emit(rows(output), columns, output, title=title)


def _deduction_items(
    board: DeductionBoard, output: Format, workbook: Path | None, asked: OrderFilter
) -> None:
    (row,) = board.rows
    counted = coverage(board.rubric, asked)

    def rows(shape: Format) -> list[dict[str, Any]]:
        return [
            {"part": part.label, "section": section.label, "item": loss.item.label,
             "count": None if loss.count is None else int(loss.count),
             "lost": points(loss.points, shape), "section_lost": points(section.lost, shape),
             "part_score": points(part.score, shape)}
            for part in row.parts
            for section in part.sections
            for loss in section.items
        ]  # fmt: skip

    columns = [("part", "part"), ("section", "section"), ("item", "item"), ("count", "件数"),
               ("lost", "扣分"), ("section_lost", "本项扣分"), ("part_score", "得分")]  # fmt: skip
    if workbook is not None:
        write_workbook(workbook, [_flat_sheet(row.unit, board, columns, rows(Format.JSON))])
    emit(
        rows(output),
        columns,
        output,
        title=f"{row.unit}, {board.rubric.name}, {board.period.label}: "
        f"{points(row.score, Format.TABLE)} of {points(row.points, Format.TABLE)} "
        f"(orders: {orders_line(counted)})",
        document={
            "rubric": board.rubric.name,
            "unit": row.unit,
            **period_document(board.period, board.today, board.as_of),
            **orders_document(counted),
            "score": float(shown_points(row.score)),
        },
    )


def _deduction_json(row: Any) -> dict[str, Any]:
    return {
        "unit": row.unit,
        "group": row.group,
        "score": float(shown_points(row.score)),
        "lost": float(shown_points(row.lost)),
        "parts": [
            {"key": p.key, "label": p.label, "points": float(p.points),
             "lost": float(shown_points(p.lost)), "score": float(shown_points(p.score)),
             "sections": [
                 {"key": s.key, "label": s.label, "lost": float(shown_points(s.lost)),
                  "items": {i.item.key: {"count": None if i.count is None else int(i.count),
                                         "lost": float(shown_points(i.points))}
                            for i in s.items}}
                 for s in p.sections
             ]}
            for p in row.parts
        ],
    }  # fmt: skip


def _flat_sheet(
    name: str, board: DeductionBoard, columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]]
) -> Sheet:
    return Sheet(
        name=name,
        titles=[board.rubric.title, board.period.label],
        headings=[h for _, h in columns],
        rows=[[r[k] for k, _ in columns] for r in rows],
        formats=[None] * len(columns),
    )
