"""Metrics over orders, defined declaratively and computed column-wise (domain.md §6).

A metric is a numerator (a weight per order: 1/0 for a rate, points for a
score) over a denominator (which orders count); a count has no denominator.
The definitions live in `projections/`, one file each; this module only
knows how to compute and explain them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from hotline.domain.calendar import Days
from hotline.domain.facts import NONE, FactColumns
from hotline.domain.facts import UNSET as UNSET
from hotline.domain.limits import Flags as Flags
from hotline.domain.limits import Limits, Timelines

Weights = npt.NDArray[np.float64] | Flags


@dataclass(frozen=True)
class Revisits:
    """回访 events, one row per event; `order` is the order's row."""

    order: Days
    day: Days
    contacted: Flags
    consistent: Flags
    evaluation: Days
    """`Evaluation` codes, -1 where none was given."""


@dataclass(frozen=True)
class Supervisions:
    """督办 events, one row per event; `order` is the order's row."""

    order: Days
    day: Days
    at_fault: Flags


def no_revisits() -> Revisits:
    empty = np.zeros(0, dtype=np.int64)
    return Revisits(empty, empty, empty.astype(bool), empty.astype(bool), empty)


def no_supervisions() -> Supervisions:
    empty = np.zeros(0, dtype=np.int64)
    return Supervisions(empty, empty, empty.astype(bool))


@dataclass(frozen=True)
class OrderColumns:
    """Orders as numpy columns (from the read model), one row per order."""

    numbers: list[str]
    units: list[str]
    districts: list[str | None]
    """区, None where not given."""
    timelines: Timelines
    repeat: Flags
    result: Days
    """`ClosingResult` codes, -1 where not closed."""
    citizen_informed: Flags
    rating: Days
    """`Rating` codes, -1 where not rated."""
    rating_excluded: Flags
    rated: Days
    """The rating's day."""
    mediation_outcome: Days
    """`MediationOutcome` codes (调解结果), -1 where mediation has not ended."""
    recovered_fen: Days
    """挽回经济损失 in fen (0.01 yuan), exact."""
    revisits: Revisits = field(default_factory=no_revisits)
    supervisions: Supervisions = field(default_factory=no_supervisions)

    @classmethod
    def of_facts(cls, facts: FactColumns) -> OrderColumns:
        """The columns of orders' facts (`Timelines.of_facts` and the rest)."""
        column = facts.column
        revisits = facts.revisits.T
        supervisions = facts.supervisions.T
        return cls(
            numbers=facts.numbers,
            units=facts.units,
            districts=facts.districts,
            timelines=Timelines.of_facts(facts),
            repeat=column("repeat").astype(bool),
            result=column("result"),
            citizen_informed=column("citizen_informed").astype(bool),
            rating=column("rating"),
            rating_excluded=column("rating_excluded").astype(bool),
            rated=column("rated_day"),
            mediation_outcome=column("mediation_outcome"),
            recovered_fen=column("recovered_fen"),
            revisits=Revisits(
                order=revisits[0],
                day=revisits[1],
                contacted=revisits[2].astype(bool),
                consistent=revisits[3].astype(bool),
                evaluation=revisits[4],
            ),
            supervisions=Supervisions(
                order=supervisions[0], day=supervisions[1], at_fault=supervisions[2].astype(bool)
            ),
        )


@dataclass(frozen=True)
class Facts:
    """What metric definitions see: the orders, their limits, and the period."""

    orders: OrderColumns
    limits: Limits
    start: int
    end: int
    """The period's first and last day (`date.toordinal()`), both included."""

    @property
    def t(self) -> Timelines:
        return self.orders.timelines

    def within(self, days: Days) -> Flags:
        """Which of `days` fall in the period (NONE never does)."""
        found: Flags = (days >= self.start) & (days <= self.end) & (days != NONE)
        return found

    def any_of(self, order: Days, chosen: Flags) -> Flags:
        """Per order: whether any of its event rows (`order` column) is `chosen`."""
        count = np.bincount(order[chosen], minlength=len(self.orders.numbers))
        found: Flags = count > 0
        return found

    def counted_ratings(self) -> Flags:
        """Ratings given in the period, excluded ones (客观件/不纳入测评) left out."""
        found: Flags = (
            self.within(self.orders.rated)
            & (self.orders.rating != UNSET)
            & ~self.orders.rating_excluded
        )
        return found


def day(number: int) -> date:
    """A day column's value as a date."""
    return date.fromordinal(int(number))


@dataclass(frozen=True)
class Shortfall:
    """Orders that cost a metric, and how to say why one did."""

    orders: Callable[[Facts], Flags]
    reason: Callable[[Facts, int], str]


@dataclass(frozen=True)
class Metric:
    """A rate, score or count, per unit, group or system, for a period."""

    key: str
    label: str
    """The assessment's Chinese name (先行联系率 …)."""
    title: str
    position: int
    """Where it stands in reports (lowest first)."""
    numerator: Callable[[Facts], Weights]
    denominator: Callable[[Facts], Flags] | None = None
    """None: the metric is a count of the numerator."""
    scale: float = 100.0
    unit: str = "%"
    decimals: int = 2
    minor_units: int = 1
    """How many of a count's numerator make one of what is shown (100: fen summed, shown
    in yuan): money is summed in whole fen (exact) and shown through `exact`, never as a
    float of yuan."""
    shortfalls: tuple[Shortfall, ...] = ()

    def exact(self, value: MetricValue) -> Decimal | None:
        """A count of minor units as the decimal shown (fen → yuan, to the fen); None for
        a metric without minor units."""
        if self.minor_units == 1 or value.denominator is not None:
            return None
        step = Decimal(1).scaleb(-self.decimals)
        return (Decimal(round(value.numerator)) / self.minor_units).quantize(step)


@dataclass(frozen=True)
class MetricValue:
    numerator: float
    denominator: int | None
    value: float | None
    """None where nothing counted (a rate over no orders)."""


@dataclass(frozen=True)
class Sums:
    """A metric's numerator and denominator (None: a count) summed per group, over some
    orders; the sums of two sets of orders add up (every weight is a whole number: a 1/0,
    points or fen, so float sums are exact whatever the order)."""

    numerators: npt.NDArray[np.float64]
    denominators: npt.NDArray[np.int64] | None
    scale: float

    def __add__(self, other: Sums) -> Sums:
        if self.denominators is None or other.denominators is None:
            return Sums(self.numerators + other.numerators, None, self.scale)
        return Sums(
            self.numerators + other.numerators, self.denominators + other.denominators, self.scale
        )

    def values(self) -> list[MetricValue]:
        """The metric of each group."""
        if self.denominators is None:
            return [MetricValue(float(total), None, float(total)) for total in self.numerators]
        return [
            MetricValue(
                float(numerator),
                int(denominator),
                self.scale * float(numerator) / int(denominator) if denominator else None,
            )
            for numerator, denominator in zip(self.numerators, self.denominators, strict=True)
        ]


@dataclass(frozen=True)
class Tally:
    """A metric's weight per order and which orders its denominator counts (None: a count),
    evaluated once and then summed by any grouping of the orders."""

    weights: npt.NDArray[np.float64]
    counted: Flags | None
    scale: float

    def by(self, keys: Days, size: int) -> list[MetricValue]:
        """The metric for each of `size` groups; `keys[i]` is order i's group (-1: none)."""
        return self.sums(keys, size).values()

    def sums(self, keys: Days, size: int) -> Sums:
        """The numerator and denominator of each of `size` groups (`by`'s keys)."""
        member = keys >= 0
        chosen = member if self.counted is None else self.counted & member
        numerators = np.bincount(keys[chosen], weights=self.weights[chosen], minlength=size)
        totals = np.asarray(numerators, dtype=np.float64)
        if self.counted is None:
            return Sums(totals, None, self.scale)
        counts = np.asarray(np.bincount(keys[chosen], minlength=size), dtype=np.int64)
        return Sums(totals, counts, self.scale)


def tally(metric: Metric, facts: Facts) -> Tally:
    """`metric`'s numerator and denominator evaluated over every order of `facts`."""
    weights = np.asarray(metric.numerator(facts), dtype=np.float64)
    counted = None if metric.denominator is None else metric.denominator(facts)
    return Tally(weights, counted, metric.scale)


def compute(metric: Metric, facts: Facts, keys: Days, size: int) -> list[MetricValue]:
    """`metric` for each of `size` groups of orders; `keys[i]` is order i's group (-1: none)."""
    return tally(metric, facts).by(keys, size)


def explain(metric: Metric, facts: Facts, selected: Flags) -> list[tuple[int, str]]:
    """The orders among `selected` that cost `metric`, with why: (row, reason)."""
    counted = selected if metric.denominator is None else selected & metric.denominator(facts)
    found: dict[int, str] = {}
    for shortfall in metric.shortfalls:
        for row in np.flatnonzero(counted & shortfall.orders(facts)):
            found.setdefault(int(row), shortfall.reason(facts, int(row)))
    return sorted(found.items())


def ordered(metrics: Sequence[Metric]) -> list[Metric]:
    return sorted(metrics, key=lambda m: (m.position, m.key))
