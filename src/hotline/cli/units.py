"""`hotline units`: the unit registry (承办单位)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hotline.cli.context import application
from hotline.cli.output import shown


def list_units(
    ctx: typer.Context,
    group: Annotated[
        str | None, typer.Option(help="Only this group: district, municipal, consumer_council.")
    ] = None,
) -> None:
    """List the handling units an order can be received by, by group."""
    registry = application(ctx).units
    groups = [registry.group(group)] if group else list(registry.groups)
    table = Table("group", "#", "unit", title="承办单位 (rubrics/units.toml)")
    for unit_group in groups:
        graded = "graded" if unit_group.graded else "scores only"
        for number, name in enumerate(unit_group.units, 1):
            table.add_row(
                shown(f"{unit_group.key} ({graded})" if number == 1 else ""),
                str(number),
                shown(name),
            )
    Console().print(table)
