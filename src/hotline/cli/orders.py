"""`hotline orders ...`: lists of orders that need attention."""

from __future__ import annotations

from typing import Annotated

import typer

from hotline.cli.options import reports
from hotline.cli.output import Format, FormatOption, counted, emit

app = typer.Typer(help="Orders that need attention.", no_args_is_help=True)


@app.command()
def overdue(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option(help="Only this unit's orders.")] = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """Open orders past a limit, or due by the end of the next working day, with the
    scheduler's latest flag on each."""
    found = reports(ctx).due(unit)
    rows = [
        {
            "order": d.number,
            "unit": d.unit,
            "limit": d.limit.value,
            "status": d.status.label,
            "due": d.due.isoformat(),
            "working_days_left": d.working_days_left,
            "flagged": f"{d.flagged.level} {d.flagged.at:%Y-%m-%d %H:%M}" if d.flagged else None,
        }
        for d in found
    ]
    columns = [("order", "order"), ("unit", "unit"), ("limit", "limit"), ("status", "status"),
               ("due", "due"), ("working_days_left", "working days left"),
               ("flagged", "flagged")]  # fmt: skip
    emit(rows, columns, output, title=f"{counted(len(rows), 'limit')} past or due soon")
