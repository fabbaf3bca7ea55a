"""Trends (趋势): the metrics of `Reports.rates` month by month or quarter by quarter, and
the units' ranks under a rubric period by period: "is this unit getting better"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from hotline.domain.metrics import Metric, MetricValue
from hotline.domain.periods import Period
from hotline.domain.rubric import EVERY_ORDER, OrderFilter, Rubric
from hotline.service.assessment import Assessment, Standing


@dataclass(frozen=True)
class TrendRow:
    """One metric of a unit, group or the system, period by period."""

    name: str
    level: str
    """`unit`, `group` or `system`, as in `report rates`."""
    group: str
    metric: Metric
    values: list[MetricValue | None]
    """None for a period the row is not reported in (a unit added later)."""


@dataclass(frozen=True)
class RankRow:
    """A unit's standing under a rubric, period by period."""

    unit: str
    group: str
    standings: list[Standing | None]

    @property
    def moved(self) -> int | None:
        """Places gained from its first ranked period to its last (negative: lost)."""
        ranks = [s.rank for s in self.standings if s is not None and s.rank is not None]
        return ranks[0] - ranks[-1] if len(ranks) > 1 else None


@dataclass(frozen=True)
class Trend:
    periods: list[Period]
    today: date
    metrics: list[Metric]
    rows: list[TrendRow]
    rubric: str | None
    ranks: list[RankRow]
    """Empty without a rubric."""
    orders: OrderFilter


class Trends:
    """Each period's numbers are those `report rates` and `report scores` give for it: the
    trend asks them period by period, so the two cannot disagree."""

    def __init__(self, assessment: Assessment) -> None:
        self.assessment = assessment
        self.reports = assessment.reports

    def trend(
        self,
        periods: Sequence[Period],
        *,
        unit: str | None = None,
        group: str | None = None,
        metrics: Sequence[str] = (),
        rubric: Rubric | None = None,
        orders: OrderFilter = EVERY_ORDER,
        as_of: datetime | None = None,
    ) -> Trend:
        """`metrics` (every one, if none is named) per unit (all, a group's, or one), group
        and system for each of `periods`; with `rubric`, each unit's score and rank in each
        period (ranked within its group, as the rubric ranks); both over `orders` (the ranks
        over the orders each rubric part covers, narrowed to them); `as_of`, as the
        reports'."""
        chosen = [self.reports.metric(key) for key in dict.fromkeys(metrics)]
        chosen = chosen or self.reports.metrics
        values: dict[tuple[str, str], dict[str, list[MetricValue | None]]] = {}
        groups: dict[tuple[str, str], str] = {}
        today = date.min
        for index, period in enumerate(periods):
            found = self.reports.rates(period, unit=unit, group=group, as_of=as_of, orders=orders)
            today = found.today
            for row in found.rows:
                groups[row.name, row.level] = row.group
                mine = values.setdefault((row.name, row.level), {})
                for metric in chosen:
                    mine.setdefault(metric.key, [None] * len(periods))[index] = row.values[
                        metric.key
                    ]
        trend_rows = [
            TrendRow(name, level, groups[name, level], metric, mine[metric.key])
            for (name, level), mine in values.items()
            for metric in chosen
        ]
        ranks = [] if rubric is None else self._ranks(periods, rubric, unit, group, as_of, orders)
        return Trend(
            list(periods), today, chosen, trend_rows, rubric.name if rubric else None, ranks, orders
        )

    def _ranks(
        self,
        periods: Sequence[Period],
        rubric: Rubric,
        unit: str | None,
        group: str | None,
        as_of: datetime | None,
        orders: OrderFilter,
    ) -> list[RankRow]:
        standings = [self.assessment.standings(rubric, p, group, as_of, orders) for p in periods]
        name = self.assessment.units.get(unit).name if unit is not None else None
        units = dict.fromkeys(u for found in standings for u in found if name in (None, u))
        return [
            RankRow(u, self.assessment.units.get(u).group, [found.get(u) for found in standings])
            for u in units
        ]
