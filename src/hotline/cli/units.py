"""`hotline units`: the unit registry (承办单位), and units users add to it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hotline.cli.context import application
from hotline.cli.output import printable, shown
from hotline.cli.parsing import parse_day
from hotline.domain.errors import InvalidInput
from hotline.domain.units import AddedUnit, Unit, UnitRegistry

app = typer.Typer(
    help="The handling units (承办单位): list them; add a unit or an office, rename one.",
    invoke_without_command=True,
)
Day = Annotated[str | None, typer.Option("--from", help="In effect from this date, YYYY-MM-DD.")]


@app.callback()
def units(
    ctx: typer.Context,
    group: Annotated[
        str | None, typer.Option(help="Only this group: district, municipal, consumer_council.")
    ] = None,
) -> None:
    """List the handling units an order can be received by, by group; each bureau's offices
    (市场监管所) under it, and when a unit took effect, ended or was renamed."""
    if ctx.invoked_subcommand is not None:
        if group is not None:
            raise InvalidInput("--group lists units; give it without a command")
        return
    registry = application(ctx).units
    groups = [registry.group(group)] if group else list(registry.groups)
    table = Table(
        "group",
        "#",
        "unit",
        "dates",
        title="承办单位 (rubrics/units.toml, and `hotline units add`)",
    )
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


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The unit's name, as the platform spells it.")],
    group: Annotated[str, typer.Option(help="Its group: district, municipal, consumer_council.")],
    under: Annotated[
        str | None, typer.Option(help="An office (市场监管所): the bureau it sits under.")
    ] = None,
    effective: Day = None,
    alias: Annotated[
        list[str] | None, typer.Option(help="Another spelling (once per spelling).")
    ] = None,
) -> None:
    """Add a unit (or, with --under, an office) to the registry, for everyone on this store."""
    unit = application(ctx).add_unit(
        AddedUnit(
            name=name.strip(),
            group=group.strip(),
            under=under,
            effective=parse_day(effective) if effective else None,
            aliases=tuple(a.strip() for a in alias or ()),
        )
    )
    where = f"under {unit.under}, " if unit.under else ""
    since = f", from {unit.effective}" if unit.effective else ""
    typer.echo(printable(f"unit {unit.name} added ({where}group {unit.group}{since})"))


@app.command()
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The unit's name now.")],
    new: Annotated[str, typer.Argument(help="Its name from --on.")],
    on: Annotated[str, typer.Option(help="The first day of the new name, YYYY-MM-DD.")],
) -> None:
    """Rename a unit from a date: its orders are reported under the new name from then on,
    and an order received under the old name after it is refused."""
    day = parse_day(on)
    unit = application(ctx).rename_unit(old, new.strip(), day)
    typer.echo(printable(f"unit {old.strip()} is {unit.name} from {day}"))


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
