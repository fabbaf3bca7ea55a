"""`hotline report hotspots`: where a period's orders concentrate (热点), by category,
entity, street or district, with how many of them are repeat orders (重复工单)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hotline.cli.options import (
    AsOfOption,
    FromOption,
    PeriodOption,
    ToOption,
    UnitOption,
    as_of_moment,
    period_of,
    reports,
)
from hotline.cli.output import Format, FormatOption, emit
from hotline.service.reports import Hotspot, HotspotKey, Hotspots

NOT_GIVEN = "(not given)"
"""A table's key for the orders that have none."""


def hotspots(
    ctx: typer.Context,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    unit: UnitOption = None,
    by: Annotated[
        HotspotKey,
        typer.Option(
            help="Group by category (分类), entity (被投诉对象, with its code), street (街道, "
            "with its district) or district (区)."
        ),
    ] = HotspotKey.CATEGORY,
    level: Annotated[
        int | None,
        typer.Option(
            help="With --by category: the level, 1 (一级, default), 2 (二级) or 3 (三级), "
            "each read under the levels above it.",
            show_default=False,
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="How many keys, the most orders first.")] = 20,
    as_of: AsOfOption = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """Where the orders received in a period concentrate: per key its orders, how many are
    repeats (重复工单) and its share of all orders (of the unit's, with --unit). Orders
    without the key are counted on a line of their own, last."""
    found = reports(ctx).hotspots(
        period_of(period, start, end), by, unit=unit, level=level, top=top,
        as_of=as_of_moment(as_of),
    )  # fmt: skip
    rows = [_row(found, spot, output) for spot in found.rows]
    if found.not_given is not None and output is not Format.JSON:
        rows.append(_row(found, found.not_given, output))
    keys = ["category"] if found.by is HotspotKey.CATEGORY else list(found.columns)
    of = f" of {found.unit}" if found.unit else ""
    when = f", as of {found.as_of:%Y-%m-%d %H:%M}" if found.as_of else ""
    emit(
        rows,
        [*((key, key) for key in keys), ("orders", "orders"), ("repeats", "repeats 重复"),
         ("share", "share")],
        output,
        title=f"{found.period.label} ({found.period.start} … {found.period.end}): "
        f"{found.orders} orders received{of}{when}, {found.repeats} repeats; by {_by(found)}, "
        f"top {len(found.rows)} of {found.keys}",
        document={
            "period": found.period.label,
            "from": found.period.start.isoformat(),
            "to": found.period.end.isoformat(),
            "as_of": found.as_of.isoformat() if found.as_of else None,
            "unit": found.unit,
            "by": found.by.value,
            "level": found.level if found.by is HotspotKey.CATEGORY else None,
            "orders": found.orders,
            "repeats": found.repeats,
            "keys": found.keys,
            "not_given": None
            if found.not_given is None
            else _counts(found.not_given, output),
        },
    )  # fmt: skip


def _by(found: Hotspots) -> str:
    return f"category level {found.level}" if found.by is HotspotKey.CATEGORY else found.by.value


def _counts(spot: Hotspot, output: Format) -> dict[str, Any]:
    share = round(spot.share, 4) if output is not Format.TABLE else f"{spot.share:.1%}"
    return {"orders": spot.orders, "repeats": spot.repeats, "share": share}


def _row(found: Hotspots, spot: Hotspot, output: Format) -> dict[str, Any]:
    """A key's line: a category as its levels (a list in JSON, 一级/二级 elsewhere), the other
    keys one column each, as the `received` event names them."""
    key: dict[str, Any]
    if found.by is HotspotKey.CATEGORY:
        levels = [level for level in spot.key if level is not None]
        key = {"category": levels if output is Format.JSON else "/".join(levels) or None}
    else:
        key = dict(zip(found.columns, spot.key, strict=True))
    if output is Format.TABLE and not found.by.given(spot.key):
        key[next(iter(key))] = NOT_GIVEN
    return {**key, **_counts(spot, output)}
