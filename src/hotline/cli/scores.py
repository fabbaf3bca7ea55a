"""`hotline report scores|deductions|kpi`: a rubric applied to a period, in the shape
of the official summary tables (附件1–3)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Column, Table

from hotline.adapters.rubric_files import available_rubrics
from hotline.cli.output import WIDE, Format, FormatOption, emit, shown
from hotline.cli.report import (
    AsOfOption,
    FromOption,
    PeriodOption,
    ToOption,
    app,
    as_of_moment,
    period_document,
    period_of,
    reports,
)
from hotline.cli.workbook import Sheet, write_workbook
from hotline.domain.errors import InvalidInput
from hotline.domain.periods import Period
from hotline.domain.rubric import (
    DeductionRubric,
    Rubric,
    TargetRubric,
    WeightedRubric,
)
from hotline.domain.scoring import GroupScores, UnitScore, half_up
from hotline.service.assessment import Assessment, DeductionBoard, Scoreboard, TargetBoard

R = TypeVar("R", WeightedRubric, DeductionRubric, TargetRubric)
RubricOption = Annotated[
    str,
    typer.Option(help="A shipped rubric's name (see `hotline rubrics`) or a .toml file."),
]
GroupOption = Annotated[
    str | None, typer.Option(help="One group: district, municipal, consumer_council.")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", help="Also write the tables to this .xlsx workbook.")
]


def assessment(ctx: typer.Context) -> Assessment:
    return Assessment(reports(ctx))


def _expect(rubric: Rubric, kind: type[R], command: str) -> R:
    """`rubric` if it is of `kind`, else a refusal naming the command that takes it."""
    if not isinstance(rubric, kind):
        use = {WeightedRubric: "scores", DeductionRubric: "deductions", TargetRubric: "kpi"}
        raise InvalidInput(
            f"rubric {rubric.name} is a {rubric.kind} rubric: use `hotline report "
            f"{use[type(rubric)]} --rubric {rubric.name}` instead of `report {command}`"
        )
    return rubric


def list_rubrics(ctx: typer.Context, output: FormatOption = Format.TABLE) -> None:
    """The rubrics shipped (or in --rubrics): name, kind and title."""
    service = assessment(ctx)
    rows = []
    for path in available_rubrics(service.reports.app.rubrics):
        rubric = service.rubric(str(path))
        rows.append({"name": path.stem, "kind": rubric.kind, "title": rubric.title,
                     "source": rubric.source})  # fmt: skip
    emit(rows, [("name", "name"), ("kind", "kind"), ("title", "title"), ("source", "source")],
         output)  # fmt: skip


# --- scores -----------------------------------------------------------------------------------


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


def _shown(value: Decimal | None, decimals: int, trim_whole: bool) -> str | None:
    if value is None:
        return None
    if trim_whole and value == value.to_integral_value():
        return str(int(value))
    return f"{value:.{decimals}f}"


def _columns(board: Scoreboard) -> list[tuple[str, str]]:
    rubric = board.rubric
    columns = [("number", "序号"), ("unit", "承办部门")]
    columns += [(c.key, f"{c.label}（{c.weight}%）") for c in rubric.component]
    if any(row.bonus_points for group in board.groups for row in group.rows):
        columns.append(("bonus", "加分"))
    columns += [("total", "总分值"), ("rank", "名次"), ("grade", "等次")]
    return columns


def _row(board: Scoreboard, row: UnitScore) -> dict[str, Any]:
    shown: dict[str, Any] = {"number": row.number, "unit": row.unit}
    for c in board.rubric.component:
        shown[c.key] = _shown(row.components[c.key].shown, c.decimals, c.trim_whole)
    shown["bonus"] = _shown(half_up(row.bonus_points, 2), 2, True) if row.bonus_points else None
    shown["total"] = _shown(row.total, board.rubric.total_decimals, False)
    shown["rank"], shown["grade"] = row.rank, row.grade
    return shown


def _grade_lines(group: GroupScores) -> list[str]:
    """The grades as the notice lists them: 优秀（9个）：闵行区市场监管局、…；"""
    last = len(group.grades) - 1
    return [
        f"{grade}（{len(units)}个）：{'、'.join(units)}{'。' if i == last else '；'}"
        for i, (grade, units) in enumerate(group.grades)
    ]


def _titles(board: Scoreboard, group: GroupScores) -> tuple[str, str, str]:
    name, span = period_title(board.period)
    return group.spec.annex, f"{name}{group.spec.title or group.name}", span


def _print_scores(board: Scoreboard) -> None:
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=WIDE)
    for group in board.groups:
        columns_here = [c for c in _columns(board) if group.spec.grades or c[0] != "grade"]
        annex, title, span = _titles(board, group)
        table = Table(
            *(Column(shown(h)) for _, h in columns_here),
            title=shown(f"{annex} {title}\n{span}".strip()),
        )
        for row in group.rows:
            values = _row(board, row)
            table.add_row(
                *(shown("—" if values[k] is None else values[k]) for k, _ in columns_here)
            )
        console.print(table)
        for line in _grade_lines(group):
            console.print(shown(line))
        console.print()
    console.print(
        shown(
            f"rubric {board.rubric.name}; limits judged on {board.today}"
            + (f"; as of {board.as_of}" if board.as_of else "")
        )
    )


def _scores_json(board: Scoreboard) -> dict[str, Any]:
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        "rubric": board.rubric.name,
        **period_document(board.period, board.today, board.as_of),
        "groups": [
            {
                "key": group.spec.key,
                "name": group.name,
                "annex": group.spec.annex,
                "title": "".join(_titles(board, group)[1:]),
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


def _score_sheets(board: Scoreboard) -> list[Sheet]:
    decimals = {c.key: c.decimals for c in board.rubric.component}
    decimals |= {"bonus": 2, "total": board.rubric.total_decimals}
    sheets = []
    for group in board.groups:
        columns = [c for c in _columns(board) if group.spec.grades or c[0] != "grade"]
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
            values |= {"bonus": half_up(row.bonus_points, 2), "total": row.total}
            values |= {"rank": row.rank, "grade": row.grade}
            rows.append([values[key] for key, _ in columns])
        annex, title, span = _titles(board, group)
        sheets.append(
            Sheet(
                name=f"{annex} {group.spec.key}".strip(),
                titles=[t for t in (annex, title, span) if t],
                headings=[heading for _, heading in columns],
                rows=rows,
                formats=formats,
                notes=[
                    *_grade_lines(group),
                    "注：标记“—”，未测评到满意度或不适用。",
                    f"rubric {board.rubric.name}",
                ],
            )
        )
    return sheets


@app.command()
def scores(
    ctx: typer.Context,
    rubric: RubricOption,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    compare: Annotated[
        str | None, typer.Option(help="A second rubric, side by side with the first.")
    ] = None,
    output: FormatOption = Format.TABLE,
    workbook: OutputOption = None,
) -> None:
    """Per unit the components, total, rank and grade, as the official tables (附件1–3)."""
    service = assessment(ctx)
    chosen = period_of(period, start, end)
    first = service.rubric(rubric)
    moment = as_of_moment(as_of)
    if compare is not None:
        _compare(service, first, service.rubric(compare), chosen, group, moment, output, workbook)
        return
    board = service.scores(_expect(first, WeightedRubric, "scores"), chosen, group, moment)
    if workbook is not None:
        write_workbook(workbook, _score_sheets(board))
    if output is Format.TABLE:
        _print_scores(board)
    elif output is Format.JSON:
        emit([], [], output, document=_scores_json(board))
    else:
        rows = [{"annex": g.spec.annex, **_row(board, row)} for g in board.groups for row in g.rows]
        emit(rows, [("annex", "附件"), *_columns(board)], output, headed_csv=True)


# --- side by side -----------------------------------------------------------------------------


Summary = tuple[Decimal | None, int | None, str | None]


def _summary(
    service: Assessment,
    rubric: Rubric,
    period: Period,
    group: str | None,
    moment: datetime | None,
) -> dict[str, Summary]:
    """unit → (score, rank, grade) under `rubric`."""
    if isinstance(rubric, WeightedRubric):
        board = service.scores(rubric, period, group, moment)
        return {row.unit: (row.total, row.rank, row.grade) for g in board.groups for row in g.rows}
    if isinstance(rubric, DeductionRubric):
        found = service.deductions(rubric, period, group=group, as_of=moment)
        by_group: dict[str, list[tuple[Fraction, str]]] = {}
        for row in found.rows:
            by_group.setdefault(row.group, []).append((row.score, row.unit))
        summary: dict[str, Summary] = {}
        for members in by_group.values():
            ordered = sorted(members, key=lambda m: -m[0])
            for unit_score, unit in ordered:
                rank = 1 + sum(1 for other, _ in ordered if other > unit_score)
                summary[unit] = (half_up(unit_score, 2), rank, None)
        return summary
    raise InvalidInput(
        f"rubric {rubric.name} sets targets and gives no score; see `hotline report kpi`"
    )


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
    left = _summary(service, first, period, group, moment)
    right = _summary(service, second, period, group, moment)

    def rows(shape: Format) -> list[dict[str, Any]]:
        found = []
        for unit in [u for u in left if u in right] + [u for u in right if u not in left]:
            a, b = left.get(unit, (None, None, None)), right.get(unit, (None, None, None))
            found.append(
                {"unit": unit, "group": service.units.get(unit).group,
                 "score_a": _value(a[0], shape, trim=False), "rank_a": a[1], "grade_a": a[2],
                 "score_b": _value(b[0], shape, trim=False), "rank_b": b[1], "grade_b": b[2]}
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


# --- deductions -------------------------------------------------------------------------------


def _value(
    value: Decimal | Fraction | None, output: Format, trim: bool = True
) -> float | str | None:
    """Points to 2 decimals: a number in JSON (and workbooks), else as printed ("6", "1.50";
    "6.00" without `trim`)."""
    if value is None:
        return None
    rounded = value if isinstance(value, Decimal) else half_up(value, 2)
    return float(rounded) if output is Format.JSON else _shown(rounded, 2, trim)


@app.command()
def deductions(
    ctx: typer.Context,
    rubric: RubricOption,
    unit: Annotated[str | None, typer.Option(help="One unit, item by item.")] = None,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    output: FormatOption = Format.TABLE,
    workbook: OutputOption = None,
) -> None:
    """Points lost per unit under a deduction rubric (market-office-2017: Ⅵ-8-5, Ⅵ-8-1)."""
    if unit and group:
        raise InvalidInput("give either --unit or --group, not both")
    service = assessment(ctx)
    chosen = _expect(service.rubric(rubric), DeductionRubric, "deductions")
    board = service.deductions(
        chosen, period_of(period, start, end), unit=unit, group=group, as_of=as_of_moment(as_of)
    )
    if unit:
        _deduction_items(board, output, workbook)
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
                shown[f"{scored.key}_lost"] = _value(scored.lost, shape)
                shown[scored.key] = _value(scored.score, shape)
            shown["score"] = _value(row.score, shape)
            found.append(shown)
        return found

    if workbook is not None:
        write_workbook(workbook, [_flat_sheet(chosen.name, board, columns, rows(Format.JSON))])
    document = {"rubric": chosen.name, **period_document(board.period, board.today, board.as_of)}
    if output is Format.JSON:
        document["units"] = [_deduction_json(row) for row in board.rows]
        emit([], [], output, document=document)
    else:
        emit(rows(output), columns, output, title=f"{chosen.title}, {board.period.label}")


def _deduction_items(board: DeductionBoard, output: Format, workbook: Path | None) -> None:
    (row,) = board.rows

    def rows(shape: Format) -> list[dict[str, Any]]:
        return [
            {"part": part.label, "section": section.label, "item": loss.item.label,
             "count": None if loss.count is None else int(loss.count),
             "lost": _value(loss.points, shape), "section_lost": _value(section.lost, shape),
             "part_score": _value(part.score, shape)}
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
        f"{_value(row.score, Format.TABLE)} of {_value(row.points, Format.TABLE)}",
        document={
            "rubric": board.rubric.name,
            "unit": row.unit,
            **period_document(board.period, board.today, board.as_of),
            "score": float(half_up(row.score, 2)),
        },
    )


def _deduction_json(row: Any) -> dict[str, Any]:
    return {
        "unit": row.unit,
        "group": row.group,
        "score": float(half_up(row.score, 2)),
        "lost": float(half_up(row.lost, 2)),
        "parts": [
            {"key": p.key, "label": p.label, "points": float(p.points),
             "lost": float(half_up(p.lost, 2)), "score": float(half_up(p.score, 2)),
             "sections": [
                 {"key": s.key, "label": s.label, "lost": float(half_up(s.lost, 2)),
                  "items": {i.item.key: {"count": None if i.count is None else int(i.count),
                                         "lost": float(half_up(i.points, 2))}
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


# --- targets ----------------------------------------------------------------------------------


@app.command()
def kpi(
    ctx: typer.Context,
    rubric: Annotated[str, typer.Option(help="A targets rubric or .toml file.")] = "kpi-2023",
    unit: Annotated[str | None, typer.Option(help="One unit.")] = None,
    group: GroupOption = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """Targets met or not met (kpi-2023: on-time ≥ 95%, first contact ≥ 95%,
    dissatisfaction ≤ 10%), per unit, group and system."""
    if unit and group:
        raise InvalidInput("give either --unit or --group, not both")
    service = assessment(ctx)
    chosen = _expect(service.rubric(rubric), TargetRubric, "kpi")
    board = service.targets(
        chosen, period_of(period, start, end), unit=unit, group=group, as_of=as_of_moment(as_of)
    )
    _print_targets(board, output)


def _print_targets(board: TargetBoard, output: Format) -> None:
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
                verdict = {True: "达标", False: "未达标", None: ""}[result.met]
                shown[key] = None if value is None else f"{value:.2f} {verdict}"
            else:
                shown[key], shown[f"{key}_met"] = value, result.met
        rows.append(shown)
    emit(
        rows,
        columns,
        output,
        title=f"{board.rubric.title}, {board.period.label}",
        document={
            "rubric": board.rubric.name,
            **period_document(board.period, board.today, board.as_of),
        },
    )
