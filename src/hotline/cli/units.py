"""`hotline units`: the unit registry (承办单位)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hotline.cli.context import application
from hotline.cli.output import shown
from hotline.domain.units import Unit, UnitRegistry


def list_units(
    ctx: typer.Context,
    group: Annotated[
        str | None, typer.Option(help="Only this group: district, municipal, consumer_council.")
    ] = None,
) -> None:
    """List the handling units an order can be received by, by group; each bureau's offices
    (市场监管所) under it, and when a unit took effect, ended or was renamed."""
    registry = application(ctx).units
    groups = [registry.group(group)] if group else list(registry.groups)
    table = Table("group", "#", "unit", "dates", title="承办单位 (rubrics/units.toml)")
    for unit_group in groups:
        graded = "graded" if unit_group.graded else "scores only"
        for number, name in enumerate(unit_group.units, 1):
            unit = registry.get(name)
            table.add_row(
                shown(f"{unit_group.key} ({graded})" if number == 1 else ""),
                str(number),
                shown(name),
                _dates(unit),
            )
            for office in _own_offices(registry, unit):
                table.add_row("", "", shown(f"  └ {office.name}"), _dates(office))
    Console().print(table)


def _own_offices(registry: UnitRegistry, bureau: Unit) -> tuple[Unit, ...]:
    """The offices listed under this very name of the bureau (not under its other names)."""
    return tuple(o for o in registry.offices if o.under == bureau.name)


def _dates(unit: Unit) -> Text:
    """When the unit took effect, ended or was renamed (its new name is listed next);
    empty for one always in effect."""
    said = [f"from {unit.effective}"] if unit.effective else []
    if unit.until is not None:
        said.append(f"renamed on {unit.until}" if unit.successor else f"until {unit.until}")
    return shown(", ".join(said))
