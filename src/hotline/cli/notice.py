"""`hotline report notice`: the 通报 drafted as a `.docx` (results-2019's shape): the title,
how the units were scored, the grade lists and 附件1–3 as tables.

The numbers are `report scores`'s (the same Scoreboard, the same rows and grade lines);
a manager edits the wording, not the numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hotline.cli.docx_file import Draft, check_path
from hotline.cli.options import (
    AsOfOption,
    FromOption,
    PeriodOption,
    RubricOption,
    ToOption,
    as_of_moment,
    assessment,
    period_of,
)
from hotline.cli.rubrics import expect
from hotline.cli.scores import annex_titles, grade_lines, period_title, score_columns, score_row
from hotline.domain.errors import InvalidInput
from hotline.domain.rubric import WeightedRubric
from hotline.domain.scoring import GroupScores, shown_text
from hotline.service.assessment import Scoreboard

NoticeOutput = Annotated[
    Path | None, typer.Option("--output", help="The .docx to write the 通报 draft to.")
]
ORDINALS = "一二三四五六七八九十"
NO_TOTAL = "（标记“/”，未测评到满意度。）"


def notice(
    ctx: typer.Context,
    rubric: RubricOption,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    output: NoticeOutput = None,
) -> None:
    """Draft the 通报 of a weighted rubric's results as a Word file: the scoring, the grade
    lists and the summary tables (附件1–3), with `report scores`'s numbers."""
    if output is None:
        raise InvalidInput("report notice needs --output FILE.docx: the draft to write")
    check_path(output)
    service = assessment(ctx)
    board = service.scores(
        expect(service.rubric(rubric), WeightedRubric, "notice"),
        period_of(period, start, end),
        None,
        as_of_moment(as_of),
    )
    draft = Draft()
    _write(draft, board)
    draft.save(output)
    typer.echo(f"wrote {output}: the 通报 draft, {len(board.groups)} annex tables")


def _write(draft: Draft, board: Scoreboard) -> None:
    rubric = board.rubric
    name, span = period_title(board.period)
    draft.title(f"关于{name}{rubric.title}结果的通报")
    draft.line("各承办单位：", indent=False)
    draft.line(
        f"根据《{rubric.title}办法》规定，对各承办单位{name}{span}承办工作绩效进行了考核评价。"
        "现将相关情况通报如下："
    )
    draft.heading("一、考核办法", 1)
    draft.line(_scoring(board))
    draft.heading("二、考核结果", 1)
    draft.line("具体结果如下：")
    for index, group in enumerate(board.groups):
        if group.spec.grades:
            draft.heading(f"（{_ordinal(index + 1)}）{group.name}绩效考核等次", 2)
            for line in grade_lines(group):
                draft.line(line)
        else:
            draft.heading(f"（{_ordinal(index + 1)}）{group.name}绩效考核分值{NO_TOTAL}", 2)
            for row in group.rows:
                total = "/" if row.total is None else shown_text(row.total, rubric.total_decimals)
                draft.line(f"{row.unit}　{total}")
    annexes = [g for g in board.groups if g.spec.annex]
    for index, group in enumerate(annexes, start=1):
        lead = "附件：" if index == 1 else "　　　"
        draft.line(f"{lead}{index}．{annex_titles(board, group)[1]}")
    for group in board.groups:
        _annex(draft, board, group)


def _scoring(board: Scoreboard) -> str:
    """How the units were scored, from the rubric: components and weights, bonus, grades."""
    rubric = board.rubric
    parts = "、".join(f"“{c.label}”（{c.weight}%）" for c in rubric.component)
    text = f"考核按{parts}{_ordinal(len(rubric.component))}项指标计分，各项得分之和为总分值"
    if rubric.bonus:
        text += "，" + "、".join(f"“{b.label}”" for b in rubric.bonus) + "另行加分"
    text += "。"
    ungraded = [g.name for g in board.groups if not g.spec.grades]
    for group in board.groups:
        if group.spec.grades:
            shares = [f"{g.name}{(g.share * 100).normalize():f}％" for g in group.spec.grades]
            text += f"{group.name}按得分高低为序，以{_listed(shares, '、')}的比例确定考核等次。"
    if ungraded:
        text += f"{_listed(ungraded, '，')}只公布成绩，不确定等次。"
    return text


def _listed(items: list[str], separator: str) -> str:
    """优秀50％、良好30％和合格20％: the last joined with 和."""
    return separator.join(items[:-1]) + ("和" if len(items) > 1 else "") + items[-1]


def _ordinal(n: int) -> str:
    """一 … 十, then digits (a rubric with more parts than the notice ever had)."""
    return ORDINALS[n - 1] if 0 < n <= len(ORDINALS) else str(n)


def _annex(draft: Draft, board: Scoreboard, group: GroupScores) -> None:
    """附件N: its title, its period and the table `report scores` prints."""
    annex, title, span = annex_titles(board, group)
    if annex:
        draft.annex_mark(annex)
    draft.title(title)
    draft.line(span, centred=True)
    columns = [c for c in score_columns(board) if group.spec.grades or c[0] != "grade"]
    rows = []
    for row in group.rows:
        values = score_row(board, row)
        rows.append(["—" if values[k] is None else str(values[k]) for k, _ in columns])
    draft.table([heading for _, heading in columns], rows)
