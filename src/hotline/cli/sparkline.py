"""Sparklines (▁▂▃▄▅▆▇█): a row of numbers as one line of bars, to see a trend at a glance."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value, scaled from the row's least (▁) to its greatest (█); a blank for
    a missing value (a period with no orders); a flat row is all ▄."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    if high == low:
        return "".join(" " if v is None else BARS[3] for v in values)
    top = len(BARS) - 1
    return "".join(
        " " if v is None else BARS[round((v - low) / (high - low) * top)] for v in values
    )
