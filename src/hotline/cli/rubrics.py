"""`hotline rubrics`: the rubrics shipped (or in --rubrics); and a rubric of the kind a
`report` command takes."""

from __future__ import annotations

from typing import TypeVar

import typer

from hotline.adapters.rubric_files import available_rubrics
from hotline.cli.options import assessment
from hotline.cli.output import Format, FormatOption, emit
from hotline.domain.errors import InvalidInput
from hotline.domain.rubric import DeductionRubric, Rubric, TargetRubric, WeightedRubric

R = TypeVar("R", WeightedRubric, DeductionRubric, TargetRubric)


def expect(rubric: Rubric, kind: type[R], command: str) -> R:
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
