"""`hotline finding ...`: managers enter an inspector's judgements (findings) that rubric
items count, list them, and withdraw one entered by mistake."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import typer

from hotline.cli.context import application
from hotline.cli.options import FromOption, PeriodOption, ToOption, period_of
from hotline.cli.output import Format, FormatOption, emit, printable
from hotline.cli.parsing import parse_day
from hotline.domain.errors import InvalidInput
from hotline.domain.personal_data import mask_numbers
from hotline.domain.rubric import Rubric
from hotline.service.application import HotlineApplication
from hotline.service.assessment import Assessment
from hotline.service.reports import Reports

app = typer.Typer(
    help="Findings: an inspector's judgements that rubric items count (data-standard "
    "errors, document quality, 三方转接 …).",
    no_args_is_help=True,
)

RubricOption = Annotated[
    str,
    typer.Option(
        "--rubric",
        help="The rubric: a name (shanghai-12345-2019, market-office-2017) or a .toml file.",
        show_default=False,
    ),
]


def _rubric(hotline: HotlineApplication, name: str) -> Rubric:
    return Assessment(Reports(hotline)).rubric(name)


def _finding_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a finding id; see `hotline finding list` for the ids"
        ) from None


@app.command()
def add(
    ctx: typer.Context,
    rubric: RubricOption,
    item: Annotated[
        str,
        typer.Option(
            help="The rubric item the finding counts for, e.g. three_way_transfer, data_standard.",
            show_default=False,
        ),
    ],
    day: Annotated[
        str,
        typer.Option(
            help="When it happened or was found, YYYY-MM-DD: decides the period it counts in.",
            show_default=False,
        ),
    ],
    note: Annotated[str, typer.Option(help="What was found (at most 500 characters).")],
    unit: Annotated[str | None, typer.Option(help="The unit (承办单位); or give --order.")] = None,
    order: Annotated[
        str | None, typer.Option(help="The order it concerns; the unit is the order's.")
    ] = None,
    count: Annotated[
        int, typer.Option(help="How many (e.g. 3 orders entered wrongly), 1-1000.")
    ] = 1,
) -> None:
    """Enter a finding; prints its id (for `hotline finding withdraw`)."""
    hotline = application(ctx)
    finding_id = hotline.record_finding(
        _rubric(hotline, rubric),
        item.strip(),
        parse_day(day, "--day"),
        note,
        unit=unit,
        order=order,
        count=count,
    )
    typer.echo(str(finding_id))


@app.command("list")
def list_findings(
    ctx: typer.Context,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    unit: Annotated[str | None, typer.Option(help="One unit (承办单位).")] = None,
    rubric: Annotated[str | None, typer.Option(help="One rubric: a name or a .toml file.")] = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """The findings not withdrawn, by day (all of them unless a period is given)."""
    hotline = application(ctx)
    if period or start or end:
        chosen = period_of(period, start, end)
        first, last, label = chosen.start, chosen.end, chosen.label
    else:
        first, last, label = date.min, date.max, "all"
    unit_name = hotline.units.canonical(unit)
    rubric_name = _rubric(hotline, rubric).name if rubric else None
    found = Reports(hotline).current().findings(first, last, rubric=rubric_name, unit=unit_name)
    rows: list[dict[str, Any]] = [
        {
            "id": f.id,
            "day": f.day.isoformat(),
            "rubric": f.rubric,
            "item": f.item,
            "unit": f.unit,
            "count": f.count,
            "order": f.order,
            "note": mask_numbers(f.note),
        }
        for f in found
    ]
    columns = [
        ("id", "id"), ("day", "day"), ("rubric", "rubric"), ("item", "item"),
        ("unit", "unit"), ("count", "count"), ("order", "order"), ("note", "note"),
    ]  # fmt: skip
    shown = f"{label} ({first} … {last})" if label != "all" else "all days"
    emit(
        rows,
        columns,
        output,
        title=f"findings, {shown}: {len(rows)}",
        document={
            "period": label,
            "from": None if label == "all" else first.isoformat(),
            "to": None if label == "all" else last.isoformat(),
        },
    )


@app.command()
def withdraw(
    ctx: typer.Context,
    finding: Annotated[str, typer.Argument(help="The finding's id (see `hotline finding list`).")],
    reason: Annotated[str, typer.Option(help="Why it is withdrawn.")],
) -> None:
    """Withdraw a finding entered by mistake: it counts no more (it stays in the history)."""
    finding_id = _finding_id(finding)
    application(ctx).withdraw_finding(finding_id, reason)
    typer.echo(f"finding {finding_id} withdrawn: {printable(reason.strip())}")
