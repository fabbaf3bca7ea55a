"""`hotline report scores`: a weighted rubric applied to a period, in the shape of the
official summary tables (附件1–3), alone or beside a second rubric."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from hotline.cli.options import (
    AsOfOption,
    ChannelOption,
    FromOption,
    GroupOption,
    JudgedOnOption,
    KindOption,
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
from hotline.cli.output import WIDE, Format, FormatOption, emit, points, shown
from hotline.cli.rubrics import expect
from hotline.cli.trend import trend_sheets
from hotline.cli.workbook import Bars, Sheet, write_workbook
from hotline.domain.errors import InvalidInput
from hotline.domain.periods import Period, Step, steps
from hotline.domain.rubric import Rubric, WeightedRubric
from hotline.domain.scoring import (
    POINTS_DECIMALS,
    GroupScores,
    UnitScore,
    component_text,
    half_up,
    shown_points,
    shown_text,
)
from hotline.service.assessment import Assessment, Scoreboard, Standing
from hotline.service.trends import Trends


def period_title(period: Period) -> tuple[str, str]:
    """The period as the notice names it (2019年度) and its span (（2018年11月—2019年10月）)."""
    label = period.label
    if re.fullmatch(r"\d{4}", label):
        name = f"{label}年度"
    elif match := re.fullmatch(r"(\d{4})Q([1-4])", label):
        name = f"{match[1]}年度第{'一二三四'[int(match[2]) - 1]}季度"
    elif match := re.fullmatch(r"(\d{4})-(\d{2})", label):
        name = f"{match[1]}年{int(match[2])}月"
    else:
        name = ""
    start, end = period.start, period.end
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        span = f"（{start.year}年{start.month}月—{end.year}年{end.month}月）"
    else:
        span = f"（{start.isoformat()}—{end.isoformat()}）"
    return name, span


def score_columns(board: Scoreboard) -> list[tuple[str, str]]:
    """Every column of the score tables (附件1–3), keyed as the JSON and CSV name them."""
    rubric = board.rubric
    columns = [("number", "序号"), ("unit", "承办部门")]
    columns += [(c.key, f"{c.label}（{c.weight}%）") for c in rubric.component]
    if any(row.bonus_points for group in board.groups for row in group.rows):
        columns.append(("bonus", "加分"))
    columns += [("total", "总分值"), ("rank", "名次"), ("grade", "等次")]
    return columns


def _printed(board: Scoreboard, group: GroupScores) -> list[tuple[str, str]]:
    """The columns a group's table prints: 名次 and 等次 only where it is graded (附件1);
    附件2 and 附件3 print neither, as the notice's tables (CSV and JSON keep the ranks)."""
    return [c for c in score_columns(board) if group.spec.grades or c[0] not in {"rank", "grade"}]


def score_row(board: Scoreboard, row: UnitScore) -> dict[str, Any]:
    """A unit's row of the score tables, each value as the official tables print it."""
    shown: dict[str, Any] = {"number": row.number, "unit": row.unit}
    for c in board.rubric.component:
        shown[c.key] = component_text(c, row.components[c.key].shown)
    bonus = shown_points(row.bonus_points)
    shown["bonus"] = shown_text(bonus, POINTS_DECIMALS, True) if row.bonus_points else None
    shown["total"] = shown_text(row.total, board.rubric.total_decimals)
    shown["rank"], shown["grade"] = row.rank, row.grade
    return shown


def grade_lines(group: GroupScores) -> list[str]:
    """The grades as the notice lists them: 优秀（9个）：闵行区市场监管局、…； a grade no unit
    got is left out (not 良好（0个）：；), and the last line listed ends the sentence."""
    listed = [(grade, units) for grade, units in group.grades if units]
    return [
        f"{grade}（{len(units)}个）：{'、'.join(units)}{'。' if i == len(listed) - 1 else '；'}"
        for i, (grade, units) in enumerate(listed)
    ]


def annex_titles(board: Scoreboard, group: GroupScores) -> tuple[str, str, str]:
    """A group's table's 附件 mark, its title, and the period's span."""
    name, span = period_title(board.period)
    return group.spec.annex, f"{name}{group.spec.title or group.name}", span


def _print_scores(board: Scoreboard) -> None:
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=WIDE)
    for group in board.groups:
        columns_here = _printed(board, group)
        annex, title, span = annex_titles(board, group)
        table = Table(
            *(Column(shown(h)) for _, h in columns_here),
            title=shown(f"{annex} {title}\n{span}".strip()),
        )
        for row in group.rows:
            values = score_row(board, row)
            table.add_row(
                *(shown("—" if values[k] is None else values[k]) for k, _ in columns_here)
            )
        console.print(table)
        for line in grade_lines(group):
            console.print(shown(line))
        console.print()
    console.print(
        shown(
            f"rubric {board.rubric.name}; limits judged on {board.today}"
            + (f"; as of {board.as_of}" if board.as_of else "")
            + f"; orders: {orders_line({board.rubric.name: board.orders})}"
        )
    )


def _scores_json(board: Scoreboard) -> dict[str, Any]:
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        "rubric": board.rubric.name,
        **period_document(board.period, board.today, board.as_of),
        **orders_document({board.rubric.name: board.orders}),
        "groups": [
            {
                "key": group.spec.key,
                "name": group.name,
                "annex": group.spec.annex,
                "title": "".join(annex_titles(board, group)[1:]),
                "graded": bool(group.spec.grades),
                "grades": {grade: units for grade, units in group.grades},
                "rows": [
                    {
                        "number": row.number,
                        "unit": row.unit,
                        "group": row.group,
                        "components": {key: number(c.shown) for key, c in row.components.items()},
                        "bonus": float(half_up(row.bonus_points, 4)),
                        "total": number(row.total),
                        "rank": row.rank,
                        "grade": row.grade,
                    }
                    for row in group.rows
                ],
            }
            for group in board.groups
        ],
    }


TREND_METRICS = ("on_time_rate", "first_contact_rate", "satisfaction")
"""The trend sheet's lines: the rates the managers follow month by month."""


def _score_sheets(board: Scoreboard) -> list[Sheet]:
    decimals = {c.key: c.decimals for c in board.rubric.component}
    decimals |= {"bonus": 2, "total": board.rubric.total_decimals}
    sheets = []
    for group in board.groups:
        columns = _printed(board, group)
        formats = [
            None
            if key in {"unit", "grade"}
            else ("0." + "0" * decimals[key] if key in decimals else "0")
            for key, _ in columns
        ]
        rows = []
        for row in group.rows:
            values: dict[str, Any] = {"number": row.number, "unit": row.unit}
            values |= {key: c.shown for key, c in row.components.items()}
            values |= {"bonus": shown_points(row.bonus_points), "total": row.total}
            values |= {"rank": row.rank, "grade": row.grade}
            rows.append([values[key] for key, _ in columns])
        annex, title, span = annex_titles(board, group)
        keys = [key for key, _ in columns]
        sheets.append(
            Sheet(
                name=f"{annex} {group.spec.key}".strip(),
                titles=[t for t in (annex, title, span) if t],
                headings=[heading for _, heading in columns],
                rows=rows,
                formats=formats,
                notes=[
                    *grade_lines(group),
                    "注：标记“—”，未测评到满意度或不适用。",
                    f"rubric {board.rubric.name}",
                ],
                charts=[Bars(f"{annex} {group.name} 总分值", 1, keys.index("total"))],
                frozen_columns=2,
            )
        )
    return sheets


def _trend_sheets(
    service: Assessment, board: Scoreboard, group: str | None, as_of: datetime | None
) -> list[Sheet]:
    """The scored units' on-time, first-contact and satisfaction month by month, charted,
    over the orders the rubric counted, as the store stood when the board was scored."""
    found = Trends(service).trend(
        steps(board.period, Step.MONTH), group=group, metrics=TREND_METRICS,
        orders=board.orders, as_of=as_of,
    )  # fmt: skip
    return trend_sheets(found)


def scores(
    ctx: typer.Context,
    rubric: RubricOption,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    judged_on: JudgedOnOption = None,
    compare: Annotated[
        str | None, typer.Option(help="A second rubric, side by side with the first.")
    ] = None,
    channel: ChannelOption = None,
    kind: KindOption = None,
    output: FormatOption = Format.TABLE,
    workbook: WorkbookOption = None,
) -> None:
    """Per unit the components, total, rank and grade, as the official tables (附件1–3),
    over the orders the rubric covers (shanghai-12345-2019: 12345), narrowed by --channel
    and --kind."""
    service = assessment(ctx, judged_on)
    chosen = period_of(period, start, end)
    first = service.rubric(rubric)
    moment = as_of_moment(as_of)
    asked = order_filter(channel, kind)
    if compare is not None:
        if channel or kind:
            raise InvalidInput("--channel and --kind are for one rubric, not with --compare")
        _compare(service, first, service.rubric(compare), chosen, group, moment, output, workbook)
        return
    board = service.scores(
        expect(first, WeightedRubric, "scores"), chosen, group, moment, orders=asked
    )
    say_if_nothing_recorded(ctx, moment)
    if workbook is not None:
        sheets = _score_sheets(board) + _trend_sheets(service, board, group, moment)
        write_workbook(workbook, sheets)
    if output is Format.TABLE:
        _print_scores(board)
    elif output is Format.JSON:
        emit([], [], output, document=_scores_json(board))
    else:
        rows = [
            {"annex": g.spec.annex, **score_row(board, row)} for g in board.groups for row in g.rows
        ]
        emit(rows, [("annex", "附件"), *score_columns(board)], output, headed_csv=True)


# --- side by side -----------------------------------------------------------------------------


def _compare(
    service: Assessment,
    first: Rubric,
    second: Rubric,
    period: Period,
    group: str | None,
    moment: datetime | None,
    output: Format,
    workbook: Path | None,
) -> None:
    left = service.standings(first, period, group, moment)
    right = service.standings(second, period, group, moment)
    none = Standing(None, None, None)

    def rows(shape: Format) -> list[dict[str, Any]]:
        found = []
        for unit in [u for u in left if u in right] + [u for u in right if u not in left]:
            a, b = left.get(unit, none), right.get(unit, none)
            found.append(
                {"unit": unit, "group": service.units.get(unit).group,
                 "score_a": points(a.score, shape, trim=False), "rank_a": a.rank,
                 "grade_a": a.grade,
                 "score_b": points(b.score, shape, trim=False), "rank_b": b.rank,
                 "grade_b": b.grade}
            )  # fmt: skip
        return found

    columns = [
        ("unit", "承办部门"), ("group", "group"),
        ("score_a", f"{first.name} 得分"), ("rank_a", "名次"), ("grade_a", "等次"),
        ("score_b", f"{second.name} 得分"), ("rank_b", "名次"), ("grade_b", "等次"),
    ]  # fmt: skip
    if workbook is not None:
        numbers = rows(Format.JSON)
        write_workbook(
            workbook,
            [Sheet("compare", [f"{first.name} / {second.name}", period.label],
                   [h for _, h in columns], [[r[k] for k, _ in columns] for r in numbers],
                   ["0.00" if k.startswith("score") else None for k, _ in columns])],
        )  # fmt: skip
    emit(
        rows(output),
        columns,
        output,
        title=f"{period.label}: {first.name} beside {second.name}",
        document={"rubrics": [first.name, second.name], "period": period.label},
    )
