"""The plan of a year calibrated to published score tables (`generate_year.py --calibrate`).

Rubric shanghai-12345-2019 inverted, unit by unit: the volume points 10·v/V (4 decimals)
fix each unit's counted orders v within its group's total V; 30 on-time points mean no
late order, 25 resolution points no deduction event (no order supervised at fault, no
return rejected); the satisfaction points 7·k/n (k = 5·满意 + 4·基本满意 + 3·一般 of n
ratings, 2 decimals) and the total (the unrounded components summed, 2 decimals) fix each
unit's ratings. The ratings are spread over the units so that the system's counts are the
published ones (tilted towards the low scorers: the sample's score is 84.81 while the
units' scores weighted by volume average ~89.5).

Where the size leaves no integer count inside a cell's rounding interval (a group of V
orders resolves shares only to 10/V points) the plan takes the nearest count and says
which cells differ (`Plan.differences`).
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CALIBRATIONS = Path(__file__).resolve().parent / "calibrations"
RATINGS = ("satisfied", "basically_satisfied", "average", "dissatisfied")
INDEX = (5, 4, 3, 0)  # a rating's points ÷ 20: 满意 100, 基本满意 80, 一般 60, 不满意 0
HALF_CENT = Fraction(1, 200)
HALF_BASIS_POINT = Fraction(1, 20000)
FIXED_POINTS = 55  # 按时办结 30 + 诉求解决 25, every unit's in 2019
RATED_SHARE_LIMIT = Fraction(3, 5)  # of a unit's orders at most so many rated (some close late)
MOVES = ((1, -2, 1, 0), (0, 3, -4, 1))  # change the counts, keep n and k


@dataclass(frozen=True)
class Published:
    """One unit's row of an annex, as printed."""

    unit: str
    group: str
    volume: Fraction
    satisfaction: Fraction | None  # None: "—", no ratings
    total: Fraction | None


@dataclass
class UnitCalibration:
    """What the generator gives one unit: counted orders, returned ones, counted ratings."""

    unit: str
    group: str
    volume: int
    returned: int = 0
    ratings: list[int] = field(default_factory=lambda: [0, 0, 0, 0])


@dataclass
class Plan:
    units: list[UnitCalibration]
    group_volumes: dict[str, int]
    differences: list[str]
    """The cells the arithmetic cannot reproduce at this size, one line each."""


def load(name: str) -> tuple[list[Published], dict[str, object]]:
    """The published rows and the system figures of calibration `name`."""
    path = CALIBRATIONS / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CALIBRATIONS.glob("*.toml")))
        raise ValueError(f"no calibration {name!r} (known: {known})")
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    rows: list[Published] = []
    for group, annex in spec["annexes"].items():
        with (REPO / annex).open(encoding="utf-8", newline="") as file:
            for record in csv.reader(file):
                if record[0] == "序号":
                    continue
                _, unit, volume, _, _, satisfaction, total = record
                rows.append(
                    Published(
                        unit,
                        group,
                        Fraction(volume),
                        None if satisfaction == "—" else Fraction(satisfaction),
                        None if total == "—" else Fraction(total),
                    )
                )
    return rows, spec


def _ceil(value: Fraction) -> int:
    return -math.floor(-value)


def volume_interval(share: Fraction, total: int) -> tuple[int, int]:
    """The counts v with 10·v/total shown as `share` (half up): lo ≤ v ≤ hi (maybe empty)."""
    low = max(_ceil((share - HALF_BASIS_POINT) * total / 10), 0)
    high = _ceil((share + HALF_BASIS_POINT) * total / 10) - 1
    return low, high


def group_counts(shares: Sequence[Fraction], total: int) -> tuple[list[int], int]:
    """`total` split over the units as close to their shares as integers allow, and how
    many units' shares come out as printed."""
    intervals = [volume_interval(s, total) for s in shares]
    ideal = [s * total / 10 for s in shares]
    counts = [
        min(max(round(x), lo), hi) if lo <= hi else round(x)
        for x, (lo, hi) in zip(ideal, intervals, strict=True)
    ]
    # a unit the table scores on time has at least one order
    counts = [max(c, 1 if s > 0 else 0) for c, s in zip(counts, shares, strict=True)]
    drift = total - sum(counts)
    step = 1 if drift > 0 else -1
    while drift:
        # first units with room inside their interval, then the ones that differ anyway
        def cost(i: int) -> tuple[int, Fraction]:
            lo, hi = intervals[i]
            moved = counts[i] + step
            inside = lo <= moved <= hi
            was = lo <= counts[i] <= hi
            return (0 if inside or not was else 1, abs(moved - ideal[i]))

        candidates = [i for i in range(len(counts)) if counts[i] + step >= 1 and shares[i] > 0]
        best = min(candidates, key=cost)
        counts[best] += step
        drift -= step
    exact = sum(lo <= c <= hi for c, (lo, hi) in zip(counts, intervals, strict=True))
    return counts, exact


def choose_group_volumes(
    rows: Sequence[Published], volume: int, hints: dict[str, int], base: int
) -> dict[str, int]:
    """Each group's total: near the hint (scaled to `volume`), moved to where most shares come
    out as printed; the first group (the districts) gets the rest."""
    groups = list(dict.fromkeys(r.group for r in rows))
    shares = {g: [r.volume for r in rows if r.group == g] for g in groups}
    first, others = groups[0], groups[1:]
    chosen: dict[str, int] = {}

    def exact(group: str, total: int) -> int:
        return group_counts(shares[group], total)[1] if total > 0 else 0

    for g in others:
        centre = round(hints[g] * volume / base)
        width = max(centre // 20, 20)
        chosen[g] = max(
            range(max(centre - width, 1), centre + width + 1),
            key=lambda t: (exact(g, t), -abs(t - centre)),
        )
    # Then the municipal total moved against the districts', the one that decides most.
    g = others[0]
    centre = chosen[g]
    rest = volume - sum(chosen.values()) + centre
    width = max(centre // 200, 20)
    chosen[g] = max(
        range(max(centre - width, 1), min(centre + width, rest - 1) + 1),
        key=lambda t: (exact(g, t) + exact(first, rest - t), -abs(t - centre)),
    )
    chosen[first] = volume - sum(chosen.values())
    return {g: chosen[g] for g in groups}


def largest_remainder(weights: Sequence[float], total: int) -> list[int]:
    """`total` split into integers in proportion to `weights` (Hamilton's method)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    quotas = [w * total / whole for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - quotas[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def satisfaction_window(row: Published, volume_points: Fraction) -> tuple[Fraction, Fraction]:
    """[low, high): the unrounded satisfaction points that print as published, with a
    total that prints as published too."""
    assert row.satisfaction is not None and row.total is not None
    if not _keeps_total(row, volume_points):  # the satisfaction points kept, the total not
        return row.satisfaction - HALF_CENT, row.satisfaction + HALF_CENT
    rest = FIXED_POINTS + volume_points
    low = max(row.satisfaction - HALF_CENT, row.total - HALF_CENT - rest)
    high = min(row.satisfaction + HALF_CENT, row.total + HALF_CENT - rest)
    return low, high


def _keeps_total(row: Published, volume_points: Fraction) -> bool:
    """Whether some satisfaction points print as published with a total that does too."""
    assert row.satisfaction is not None and row.total is not None
    rest = FIXED_POINTS + volume_points
    low = max(row.satisfaction - HALF_CENT, row.total - HALF_CENT - rest)
    high = min(row.satisfaction + HALF_CENT, row.total + HALF_CENT - rest)
    return low < high


def k_range(window: tuple[Fraction, Fraction], n: int) -> tuple[int, int]:
    """The k (of n ratings) with 7·k/n inside `window`: lo ≤ k ≤ hi (maybe empty)."""
    low, high = window
    return max(_ceil(low * n / 7), 0), min(_ceil(high * n / 7) - 1, 5 * n)


def decompose(n: int, k: int, shape: Sequence[float]) -> list[int]:
    """n ratings with index sum k, as close to `shape` (proportions) as possible."""
    c0, d0 = shape[2] * n, shape[3] * n
    best: tuple[float, list[int]] | None = None
    for d in range(n + 1):
        m = n - d
        low, high = max(0, 4 * m - k), min(m, (5 * m - k) // 2)
        if low > high:
            continue
        c = min(max(round(c0), low), high)
        a = k - 4 * m + c
        cost = abs(d - d0) + abs(c - c0)
        if best is None or cost < best[0]:
            best = (cost, [a, m - c - a, c, d])
    assert best is not None, (n, k)
    return best[1]


def tilted(
    shape: Sequence[float],
    values: Sequence[float],
    mean: float,
    *,
    scale: float = 1.0,
    bound: float,
    steps: int,
) -> list[float]:
    """`shape` exponentially tilted (∝ shape·e^(θ·value/scale)) to have mean value `mean`:
    θ by `steps` bisections within ±`bound`. The plan's ratings and generate_year's
    rating matrix both tilt a mix so; each keeps its own range and steps (the years they
    generate are pinned to the bit)."""

    def mix(theta: float) -> list[float]:
        raw = [s * math.exp(theta * v / scale) for s, v in zip(shape, values, strict=True)]
        whole = sum(raw)
        return [r / whole for r in raw]

    low, high = -bound, bound
    for _ in range(steps):
        middle = (low + high) / 2
        if sum(m * v for m, v in zip(mix(middle), values, strict=True)) < mean:
            low = middle
        else:
            high = middle
    return mix((low + high) / 2)


def plan_ratings(
    rows: Sequence[Published], units: list[UnitCalibration], columns: list[int]
) -> list[str]:
    """Each rated unit's counted ratings; the system's counts are `columns` where the
    arithmetic allows. Returns the differences."""
    differences: list[str] = []
    group_volume = {
        g: sum(u.volume for u in units if u.group == g) for g in {u.group for u in units}
    }
    rated = [
        (row, unit)
        for row, unit in zip(rows, units, strict=True)
        if row.satisfaction is not None and unit.volume > 0
    ]
    windows = [
        satisfaction_window(row, Fraction(10 * unit.volume, group_volume[unit.group]))
        for row, unit in rated
    ]
    for row, unit in rated:
        if not _keeps_total(row, Fraction(10 * unit.volume, group_volume[unit.group])):
            differences.append(f"{row.unit} 总分值: the volume points differ by too much")
    scores = [float(row.satisfaction or 0) / 35 * 100 for row, _ in rated]
    total = sum(columns)
    target = sum(c * i for c, i in zip(columns, INDEX, strict=True)) * 20 / total

    # ratings ∝ volume·e^(−λ·score), λ such that the mean score is the system's
    def weights(lam: float) -> list[float]:
        return [
            u.volume * math.exp(-lam * (s - 85) / 10)
            for (_, u), s in zip(rated, scores, strict=True)
        ]

    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        w = weights(mid)
        mean = sum(x * s for x, s in zip(w, scores, strict=True)) / sum(w)
        if mean > target:
            low = mid
        else:
            high = mid
    wanted = largest_remainder(weights((low + high) / 2), total)
    caps = [max(1, int(u.volume * RATED_SHARE_LIMIT)) for _, u in rated]

    def feasible(i: int, n: int) -> bool:
        lo, hi = k_range(windows[i], n)
        return 1 <= n <= caps[i] and lo <= hi

    counts: list[int] = []
    for i, want in enumerate(wanted):
        near = sorted(range(1, caps[i] + 1), key=lambda n: (abs(n - want), n))
        n = next((n for n in near[:2000] if feasible(i, n)), 0)
        row, unit = rated[i]
        lo, hi = volume_interval(row.volume, group_volume[unit.group])
        shifted = not lo <= unit.volume <= hi
        if n == 0 or (shifted and abs(n - want) > max(3, want // 2)):
            # Too narrow a window (the volume points differ): the total given up, not the points.
            kept = windows[i]
            satisfaction = rated[i][0].satisfaction or Fraction(0)
            windows[i] = (satisfaction - HALF_CENT, satisfaction + HALF_CENT)
            wider = next((n for n in near[:2000] if feasible(i, n)), 0)
            if wider and (n == 0 or abs(wider - want) < abs(n - want)):
                n = wider
                differences.append(f"{rated[i][0].unit} 总分值: too few ratings to keep it")
            else:
                windows[i] = kept
        if n == 0:  # the nearest points a few ratings give
            row = rated[i][0]
            differences.append(f"{row.unit} 满意度: no count of ratings gives {row.satisfaction}")
            n = max(1, min(caps[i], want))
            half = Fraction(7, 2 * n)
            satisfaction = row.satisfaction or Fraction(0)
            windows[i] = (satisfaction - half, satisfaction + half)
        counts.append(n)
    # Σn back to the system's count, on the units with the most ratings.
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    drift = total - sum(counts)
    for i in order * 20:  # each unit moved by its share of the drift, in a few passes
        if drift == 0 or counts[i] == 0:
            continue
        step = 1 if drift > 0 else -1
        share = round(drift * counts[i] / sum(counts)) or step
        goal = min(max(counts[i] + share, 1), caps[i])
        for n in range(goal, counts[i], -step):
            if feasible(i, n):
                drift -= n - counts[i]
                counts[i] = n
                break
    want_k = sum(c * i for c, i in zip(columns, INDEX, strict=True))
    ks, slack = _choose_k(windows, counts, want_k)
    # Too many points or too few: a rating moved from a high scorer to a low one (or back),
    # among the units rated enough for any count to fit.
    big = [i for i, n in enumerate(counts) if n >= 100]
    for _ in range(1000):
        if slack == 0 or len(big) < 2:
            break
        donors = sorted(big, key=lambda i: scores[i], reverse=slack < 0)
        moved = False
        for giver in donors:
            taker = donors[-1]
            if giver == taker:
                break
            if feasible(giver, counts[giver] - 1) and feasible(taker, counts[taker] + 1):
                counts[giver] -= 1
                counts[taker] += 1
                moved = True
                break
        if not moved:
            break
        ks, slack = _choose_k(windows, counts, want_k)
    shape = [c / total for c in columns]
    mixes = [
        decompose(n, k, tilted(shape, INDEX, 20 * k / n / 20, bound=30.0, steps=60))
        if n
        else [0, 0, 0, 0]
        for n, k in zip(counts, ks, strict=True)
    ]
    if sum(counts) == total and slack == 0:
        _fit_columns(mixes, columns)
    have = [sum(m[j] for m in mixes) for j in range(4)]
    if have != columns:
        score = Fraction(
            20 * sum(h * i for h, i in zip(have, INDEX, strict=True)), max(sum(have), 1)
        )
        differences.append(
            f"the system's ratings are {'/'.join(map(str, have))} (score {float(score):.2f}), "
            f"not {'/'.join(map(str, columns))}: the units' rounding intervals admit no closer sum"
        )
    for (_, unit), mix in zip(rated, mixes, strict=True):
        unit.ratings = mix
    return differences


def _choose_k(
    windows: Sequence[tuple[Fraction, Fraction]], counts: Sequence[int], want: int
) -> tuple[list[int], int]:
    """Each unit's k inside its window, their sum as near `want` as the windows allow; and
    what is left over (0 when the sum is `want`)."""
    ranges = [k_range(w, n) if n else (0, 0) for w, n in zip(windows, counts, strict=True)]
    ks = [(lo + hi) // 2 for lo, hi in ranges]
    slack = want - sum(ks)
    for i in sorted(range(len(ks)), key=lambda i: ranges[i][0] - ranges[i][1]):
        lo, hi = ranges[i]
        moved = min(max(ks[i] + slack, lo), hi)
        slack -= moved - ks[i]
        ks[i] = moved
    return ks, slack


def _fit_columns(mixes: list[list[int]], columns: Sequence[int]) -> None:
    """Moves that keep each unit's n and k (`MOVES`) until the column sums are `columns`."""
    have = [sum(m[j] for m in mixes) for j in range(4)]
    for move, times in ((MOVES[0], columns[0] - have[0]), (MOVES[1], columns[3] - have[3])):
        sign = 1 if times > 0 else -1
        delta = [sign * x for x in move]
        for _ in range(abs(times)):
            able = [m for m in mixes if all(m[j] + delta[j] >= 0 for j in range(4))]
            if not able:
                return
            mix = max(able, key=lambda m: min(m[j] for j in range(4) if delta[j] < 0))
            for j in range(4):
                mix[j] += delta[j]


def calibrate(name: str, volume: int | None = None) -> Plan:
    """The plan of a year of `volume` counted orders (default: the calibration's) whose
    tables are calibration `name`'s as far as that size allows."""
    rows, spec = load(name)
    system = spec["system"]
    assert isinstance(system, dict)
    base = int(system["volume"])
    volume = base if volume is None else volume
    hints = spec["groups"]
    assert isinstance(hints, dict)
    totals = choose_group_volumes(rows, volume, hints, base)
    units: list[UnitCalibration] = []
    differences: list[str] = []
    for group, group_total in totals.items():
        members = [r for r in rows if r.group == group]
        counts, _ = group_counts([r.volume for r in members], group_total)
        for row, count in zip(members, counts, strict=True):
            units.append(UnitCalibration(row.unit, group, count))
            lo, hi = volume_interval(row.volume, group_total)
            if not lo <= count <= hi:
                shown = float(Fraction(10 * count, group_total))
                differences.append(
                    f"{row.unit} 受理数量: {shown:.4f}, not {float(row.volume):.4f} "
                    f"(no count of {group_total} orders gives it)"
                )
    returned = largest_remainder(
        [u.volume for u in units], round(int(system["returned"]) * volume / base)
    )
    for unit, count in zip(units, returned, strict=True):
        unit.returned = count
    published = system["ratings"]
    assert isinstance(published, dict)
    columns = largest_remainder(
        [float(published[r]) for r in RATINGS],
        round(sum(int(published[r]) for r in RATINGS) * volume / base),
    )
    differences += plan_ratings(rows, units, columns)
    return Plan(units, totals, differences)
