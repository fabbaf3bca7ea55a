"""Published score tables, and event streams built to reproduce them.

Source: results-2019 (docs/domain.md, Sources), 上海市市场监督管理局
沪市监办发〔2020〕336号, 附件3 "2019年度市消保委系统“12345”市民服务热线承办工作绩效考核情况汇总表"
(assessment year 2019: 2018-11-01 … 2019-10-31), transcribed as printed into
`tests/data/seed000-annex3.csv`.

The published table gives each unit's points, not its counts. `volume_counts` and
`rating_counts` find the smallest counts that round to the printed points (domain.md §7, rubric
`shanghai-12345-2019`), and `write_events` writes a JSON Lines import file (domain.md §9) with
exactly those facts, every order closed on time and resolved.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
ANNEX3 = DATA / "seed000-annex3.csv"

NUMBER = "序号"
UNIT = "承办部门"
VOLUME = "受理数量（10%）"
ON_TIME = "按时办结（30%）"
RESOLUTION = "诉求解决（25%）"
SATISFACTION = "满意度（35%）"
TOTAL = "总分值"
COLUMNS = (NUMBER, UNIT, VOLUME, ON_TIME, RESOLUTION, SATISFACTION, TOTAL)

#: Points per rating (domain.md §6): 满意 100, 基本满意 80, 一般 60, 不满意 0.
RATINGS = (("satisfied", 100), ("basically_satisfied", 80), ("average", 60), ("dissatisfied", 0))

SEARCH_LIMIT = 10_000_000


@dataclass(frozen=True)
class OfficialRow:
    """One row of a published table, every value a string as printed."""

    number: str
    unit: str
    volume: str
    on_time: str
    resolution: str
    satisfaction: str
    total: str

    def values(self) -> tuple[str, ...]:
        """The values in the order of `COLUMNS`."""
        return (self.number, self.unit, self.volume, self.on_time, self.resolution,
                self.satisfaction, self.total)  # fmt: skip


def read_table(path: Path | str) -> list[OfficialRow]:
    """The rows of a published table (a UTF-8 CSV whose header is `COLUMNS`)."""
    with Path(path).open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: header {reader.fieldnames} is not {list(COLUMNS)}")
        return [OfficialRow(*(record[column] for column in COLUMNS)) for record in reader]


def round_half_up(value: Fraction, places: int) -> Decimal:
    """`value` rounded half up to `places` decimals, exactly (no float on the way)."""
    scale = 10**places
    return Decimal(math.floor(value * scale + Fraction(1, 2))).scaleb(-places)


def _scaled(value: Decimal, places: int) -> int:
    """`value` × 10**places as an integer; refuses a value with more decimals than that."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimals")
    return int(scaled)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def volume_counts(shares: Sequence[Decimal], *, weight: int = 10, places: int = 4) -> list[int]:
    """The smallest group total N, split into counts n_i, with weight·n_i/N → each share.

    The share printed as `v` (to `places` decimals, rounded half up) admits exactly the n with
    v − ½·10^-places ≤ weight·n/N < v + ½·10^-places, i.e. lo ≤ n ≤ hi with
    lo = ⌈(v − ½ulp)·N/weight⌉ and hi = ⌈(v + ½ulp)·N/weight⌉ − 1. N works when every unit's
    interval is non-empty and sum(lo) ≤ N ≤ sum(hi); the counts start at lo and the rest of N
    is given out in table order, each up to its hi. Returns the counts (their sum is N).
    """
    if not shares:
        raise ValueError("no shares")
    doubled = [2 * _scaled(share, places) for share in shares]  # 2·v·10^places
    divisor = 2 * weight * 10**places
    for total in range(1, SEARCH_LIMIT):
        # (2v·10^p − 1)·N ≤ divisor·n < (2v·10^p + 1)·N
        low = [_ceil_div((v - 1) * total, divisor) for v in doubled]
        high = [_ceil_div((v + 1) * total, divisor) - 1 for v in doubled]
        if any(lo > hi or hi < 0 for lo, hi in zip(low, high, strict=True)):
            continue
        low = [max(lo, 0) for lo in low]
        if not sum(low) <= total <= sum(high):
            continue
        counts, left = [], total - sum(low)
        for lo, hi in zip(low, high, strict=True):
            extra = min(left, hi - lo)
            counts.append(lo + extra)
            left -= extra
        return counts
    raise ValueError(f"no group total below {SEARCH_LIMIT} gives the shares {list(shares)}")


def satisfaction_points(mix: Sequence[int], weight: int = 35) -> Fraction:
    """weight × satisfaction score ÷ 100, unrounded, for a (satisfied, basic, average,
    dissatisfied) mix."""
    rated = sum(mix)
    if rated == 0:
        raise ValueError("no ratings")
    score = sum(count * points for count, (_, points) in zip(mix, RATINGS, strict=True))
    return Fraction(weight * score, 100 * rated)


def rating_counts(
    points: Decimal,
    weight: int = 35,
    *,
    places: int = 2,
    total: Decimal | None = None,
    others: Fraction = Fraction(0),
    limit: int = 10_000,
) -> tuple[int, int, int, int]:
    """The fewest ratings (satisfied, basically_satisfied, average, dissatisfied) whose
    satisfaction points, weight·s/100 rounded half up to `places` decimals, print as `points`.

    With `total`, the mix must also make the printed total: `others` (the other components,
    unrounded) plus the unrounded satisfaction points, rounded half up, equals `total`. Among
    mixes of the fewest ratings, the most satisfied one (lexicographically largest) wins.
    """
    target = _scaled(points, places)
    full, basic, average, _ = (value for _, value in RATINGS)
    step = 2 * 10**places * weight
    for rated in range(1, limit + 1):
        # S = full·a + basic·b + average·c; weight·S/(100·rated) prints as target/10^places
        # iff low ≤ step·S < high.
        low, high = (2 * target - 1) * 100 * rated, (2 * target + 1) * 100 * rated
        for a in range(rated, -1, -1):  # most satisfied first
            for b in range(rated - a, -1, -1):
                base = step * (full * a + basic * b)
                # the c with low ≤ base + step·average·c < high, largest first
                top = min(rated - a - b, _ceil_div(high - base, step * average) - 1)
                bottom = max(0, _ceil_div(low - base, step * average))
                for c in range(top, bottom - 1, -1):
                    mix = (a, b, c, rated - a - b - c)
                    exact = satisfaction_points(mix, weight)
                    if total is None or round_half_up(others + exact, places) == total:
                        return mix
    raise ValueError(f"no mix of at most {limit} ratings gives {points}")


@dataclass(frozen=True)
class UnitPlan:
    """What the event stream holds for one unit of a published table."""

    row: OfficialRow
    orders: int
    group_orders: int
    ratings: tuple[int, int, int, int]

    @property
    def volume_points(self) -> Fraction:
        return Fraction(10 * self.orders, self.group_orders)

    def total(self) -> Decimal:
        """The total the rubric gives these facts: unrounded components summed, half up."""
        exact = (self.volume_points + Fraction(Decimal(self.row.on_time))
                 + Fraction(Decimal(self.row.resolution)) + satisfaction_points(self.ratings))  # fmt: skip
        return round_half_up(exact, 2)


def plan(rows: Sequence[OfficialRow]) -> list[UnitPlan]:
    """Order and rating counts per unit that reproduce every printed value of `rows`.

    Only tables where every unit got full on-time (30) and resolution (25) points and has a
    satisfaction score can be built: the stream closes every order on time, resolved.
    """
    for row in rows:
        if (row.on_time, row.resolution) != ("30", "25") or row.satisfaction in ("—", ""):
            raise ValueError(f"{row.unit}: only full on-time and resolution points, and a "
                             f"satisfaction score, can be built, not {row}")  # fmt: skip
    counts = volume_counts([Decimal(row.volume) for row in rows])
    group = sum(counts)
    plans = []
    for row, orders in zip(rows, counts, strict=True):
        others = (Fraction(10 * orders, group) + Fraction(Decimal(row.on_time))
                  + Fraction(Decimal(row.resolution)))  # fmt: skip
        ratings = rating_counts(Decimal(row.satisfaction), total=Decimal(row.total),
                                others=others)  # fmt: skip
        assert sum(ratings) <= orders, f"{row.unit}: {sum(ratings)} ratings, {orders} orders"
        plans.append(UnitPlan(row, orders, group, ratings))
    return plans


def assessment_days(year: int) -> tuple[date, date]:
    """First and last day orders are received on: assessment year `year` runs from
    1 November of the year before to 31 October; the last ten days are left free so that
    every order is closed and rated inside the year."""
    return date(year - 1, 11, 1), date(year, 10, 20)


def _line(order: str, event: str, day: date, time: str, **fields: Any) -> str:
    at = f"{day.isoformat()}T{time}+08:00"
    return json.dumps({"order": order, "event": event, "at": at, **fields}, ensure_ascii=False)


def write_events(path: Path | str, rows: Sequence[OfficialRow], *, year: int = 2019,
                 prefix: str = "A3") -> int:  # fmt: skip
    """Write the JSON Lines import file whose facts give `rows`; returns the number of lines.

    Per unit (index i, 1-based): its n_i complaints `<prefix>-<i>-<seq>` from 12345, received at
    09:00 on days spread evenly over the assessment year, first contact 10:00 and closed
    16:00 the same day (resolved, citizen informed), and the first a+b+c+d of them rated the
    next day at 10:00 with the mix from `rating_counts`.
    """
    first, last = assessment_days(year)
    days = (last - first).days + 1
    written = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as file:
        for index, unit in enumerate(plan(rows), start=1):
            ratings = [name for (name, _), count in zip(RATINGS, unit.ratings, strict=True)
                       for _ in range(count)]  # fmt: skip
            for seq in range(unit.orders):
                order = f"{prefix}-{index:02d}-{seq + 1:05d}"
                day = first + timedelta(days=seq * days // unit.orders)
                lines = [
                    _line(order, "received", day, "09:00:00", unit=unit.row.unit,
                          kind="complaint", channel="12345"),
                    _line(order, "first_contact", day, "10:00:00"),
                    _line(order, "closed", day, "16:00:00", result="resolved",
                          citizen_informed=True),
                ]  # fmt: skip
                if seq < len(ratings):
                    lines.append(_line(order, "rated", day + timedelta(days=1), "10:00:00",
                                       rating=ratings[seq]))  # fmt: skip
                file.write("".join(line + "\n" for line in lines))
                written += len(lines)
    return written
