"""`hotline export orders`: an office's orders out as the platform's export (工单导出), one
row per order, for a spreadsheet or for `hotline import` elsewhere."""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Annotated

import typer

from hotline.cli.options import ReasonOption, RevealOption, reports, reveal_reason
from hotline.cli.output import counted
from hotline.cli.table_file import check_table_path, write_table
from hotline.domain.aggregate import now
from hotline.domain.order import OrderStatus
from hotline.domain.periods import parse_period
from hotline.service.order_export import HEADERS, OrderExport, OrderSelection

app = typer.Typer(help="An office's data out, as files.", no_args_is_help=True)

TITLE = "上海市12345市民服务热线工单导出"


@app.command("orders")
def export_orders(
    ctx: typer.Context,
    period: Annotated[
        str,
        typer.Option(
            help="The orders received in: assessment year 2019, quarter 2019Q1, month 2019-03."
        ),
    ],
    output: Annotated[
        Path, typer.Option(help="The file to write: F.xlsx or F.csv (GB18030), replaced whole.")
    ],
    unit: Annotated[str | None, typer.Option(help="Only this unit's orders (承办单位).")] = None,
    group: Annotated[
        str | None, typer.Option(help="Only one group's: district, municipal, consumer_council.")
    ] = None,
    status: Annotated[
        OrderStatus | None, typer.Option(help="Only orders now open, closed or returned.")
    ] = None,
    reveal: RevealOption = False,
    reason: ReasonOption = None,
) -> None:
    """One row per order received in the period, in the platform's default export layout,
    with each limit's due date and status as of today. Personal data is masked unless
    --reveal."""
    shown_for = reveal_reason(reveal, reason)
    selection = OrderSelection(parse_period(period), unit, group, status)
    check_table_path(output)
    export = OrderExport(reports(ctx))
    numbers = export.numbers(selection)
    made = now()
    titles = [[TITLE], [f"{selection.period.label}（{selection.period.start} … "
                        f"{selection.period.end}），导出时间 {made:%Y-%m-%d %H:%M}"]]  # fmt: skip
    rows = export.rows(numbers, shown_for)  # written as read, an order at a time
    write_table(output, "工单", chain([*titles, list(HEADERS)], rows))
    typer.echo(f"{counted(len(numbers), 'order')} → {output}")
