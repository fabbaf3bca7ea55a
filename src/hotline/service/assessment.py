"""The assessment (绩效考核): a rubric applied to a period, on demand.

Scores, deductions and targets per unit, and the orders and findings that cost
each unit its points. The rubric is data (`rubrics/*.toml`); the facts are the
read model's, with the calendar and the 1·5·13 rules applied at query time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

import numpy as np

from hotline.adapters.readmodel import FindingRecord, ReadModel
from hotline.adapters.rubric_files import load_rubric
from hotline.domain.errors import InvalidInput
from hotline.domain.metrics import Facts, Flags, Metric, MetricValue, Sums, explain, tally
from hotline.domain.periods import Period
from hotline.domain.personal_data import mask_numbers
from hotline.domain.rubric import (
    EVERY_ORDER,
    DeductionRubric,
    Deductions,
    Item,
    OrderFilter,
    PerFinding,
    PerOrder,
    Rate,
    Ratings,
    Rubric,
    TargetRubric,
    WeightedRubric,
)
from hotline.domain.scoring import (
    GroupScores,
    Measure,
    Tally,
    TargetResult,
    UnitDeductions,
    check_targets,
    chosen_units,
    deduction_ranks,
    item_loss,
    one_unit,
    score_deductions,
    score_weighted,
    shown_points,
)
from hotline.domain.units import Level, Reporting
from hotline.domain.vocabulary import Rating
from hotline.service.reports import Reports


@dataclass(frozen=True)
class Scoreboard:
    """A weighted rubric's tables for a period (附件1–3)."""

    rubric: WeightedRubric
    period: Period
    today: date
    as_of: datetime | None
    groups: list[GroupScores]
    orders: OrderFilter
    """The orders counted: the rubric's coverage, narrowed to those asked for."""


@dataclass(frozen=True)
class DeductionBoard:
    rubric: DeductionRubric
    period: Period
    today: date
    as_of: datetime | None
    rows: list[UnitDeductions]


@dataclass(frozen=True)
class TargetRow:
    name: str
    level: str
    """`unit`, `group` or `system`."""
    results: list[TargetResult]


@dataclass(frozen=True)
class TargetBoard:
    rubric: TargetRubric
    period: Period
    today: date
    as_of: datetime | None
    rows: list[TargetRow]


@dataclass(frozen=True)
class Standing:
    """A unit's shown score, rank and grade under one rubric (`report scores --compare`)."""

    score: Decimal | None
    rank: int | None
    grade: str | None


@dataclass(frozen=True)
class Cost:
    """An order or a finding that cost a unit points under a rubric."""

    where: str
    """The component or part and section: 按时办结, Ⅵ-8-5 办结情况 …"""
    item: str
    source: str
    """The order number, or `finding <id>`."""
    reason: str
    points: Fraction
    """What it cost before any cap."""


class Assessment:
    """Rubrics applied to the read model of `reports`' store."""

    def __init__(self, reports: Reports) -> None:
        self.reports = reports
        self.units = reports.app.units

    @cached_property
    def _metric_keys(self) -> set[str]:
        return {m.key for m in self.reports.metrics}

    def rubric(self, name: str) -> Rubric:
        """The rubric `name` names (a shipped rubric's name or a .toml path), checked."""
        return load_rubric(name, self._metric_keys, self.units, self.reports.app.rubrics)

    def scores(
        self,
        rubric: WeightedRubric,
        period: Period,
        group: str | None = None,
        as_of: datetime | None = None,
        orders: OrderFilter = EVERY_ORDER,
    ) -> Scoreboard:
        """Every unit's components, total, rank and grade, group by group, over the orders
        the rubric covers (narrowed to `orders`)."""
        specs = {spec.key: spec for spec in rubric.group}
        chosen = chosen_units(self.units, group=group, rubric=rubric, period=period)
        batches = self.reports.batches(period, as_of)
        findings = self._findings(batches.readmodel, period, rubric.name)
        reporting = self.units.reporting(period.start, period.end)
        counted = rubric.orders.narrowed(orders)
        [tallies] = self._tallies(batches.facts, [counted], findings, reporting)
        groups = [(specs[key], self.units.group(key).name, units) for key, units in chosen.items()]
        scored = score_weighted(rubric, groups, tallies)
        return Scoreboard(rubric, period, batches.today, as_of, scored, counted)

    def deductions(
        self,
        rubric: DeductionRubric,
        period: Period,
        *,
        unit: str | None = None,
        group: str | None = None,
        as_of: datetime | None = None,
        level: Level = Level.BUREAU,
        orders: OrderFilter = EVERY_ORDER,
    ) -> DeductionBoard:
        """Every unit's points lost, part by part and section by section: a bureau's with
        its offices' orders, or at the office level each office's own (market-office-2017
        scores offices); each part over the orders it covers, narrowed to `orders`."""
        chosen = chosen_units(self.units, unit, group, rubric, period=period, level=level)
        batches = self.reports.batches(period, as_of)
        findings = self._findings(batches.readmodel, period, rubric.name)
        reporting = self.units.reporting(period.start, period.end, level)
        parts = [p.orders.narrowed(orders) for p in rubric.part]
        by_part = dict(
            zip(
                (p.key for p in rubric.part),
                self._tallies(batches.facts, parts, findings, reporting),
                strict=True,
            )
        )
        rows = [
            score_deductions(rubric, name, key, {k: t[name] for k, t in by_part.items()})
            for key, units in chosen.items()
            for name in units
        ]
        return DeductionBoard(rubric, period, batches.today, as_of, rows)

    def standings(
        self,
        rubric: Rubric,
        period: Period,
        group: str | None = None,
        as_of: datetime | None = None,
        orders: OrderFilter = EVERY_ORDER,
    ) -> dict[str, Standing]:
        """Unit → its shown score, rank and grade under `rubric` (a deduction rubric's score is
        what is left of its points, ranked within the unit's group, without grades), over the
        orders it covers narrowed to `orders`."""
        if isinstance(rubric, WeightedRubric):
            board = self.scores(rubric, period, group, as_of, orders)
            return {
                row.unit: Standing(row.total, row.rank, row.grade)
                for found in board.groups
                for row in found.rows
            }
        if isinstance(rubric, DeductionRubric):
            rows = self.deductions(rubric, period, group=group, as_of=as_of, orders=orders).rows
            rank = deduction_ranks(rows)
            return {
                row.unit: Standing(shown_points(row.score), rank[row.unit], None) for row in rows
            }
        raise InvalidInput(
            f"rubric {rubric.name} sets targets and gives no score; see `hotline report kpi`"
        )

    def targets(
        self,
        rubric: TargetRubric,
        period: Period,
        *,
        unit: str | None = None,
        group: str | None = None,
        as_of: datetime | None = None,
        orders: OrderFilter = EVERY_ORDER,
    ) -> TargetBoard:
        """Each target met or not, per unit, per group and for the whole system, over the
        orders the rubric covers (narrowed to `orders`)."""
        rates = self.reports.rates(
            period, unit=unit, group=group, as_of=as_of, orders=rubric.orders.narrowed(orders)
        )
        rows = [
            TargetRow(row.name, row.level, check_targets(rubric, Tally(
                {m.key: _measure(m, row.values[m.key]) for m in rates.metrics}
            )))
            for row in rates.rows
        ]  # fmt: skip
        return TargetBoard(rubric, period, rates.today, as_of, rows)

    def explain(
        self,
        rubric: Rubric,
        period: Period,
        unit: str,
        as_of: datetime | None = None,
        level: Level = Level.BUREAU,
        orders: OrderFilter = EVERY_ORDER,
    ) -> list[Cost]:
        """The orders and findings that cost `unit` points under `rubric`, and how much each
        (at the office level `unit` is an office, its own orders only), over the orders
        each part covers, narrowed to `orders`."""
        chosen = chosen_units(self.units, unit, rubric=rubric, period=period, level=level)
        name = one_unit(chosen, unit)
        # Two reads of the period, a batch at a time: the unit's tally (what an order's cost
        # depends on), then the orders that cost it.
        batches = self.reports.batches(period, as_of)
        reporting = self.units.reporting(period.start, period.end, level)
        findings = [
            f
            for f in self._findings(batches.readmodel, period, rubric.name)
            if f.unit in reporting.index and reporting.names[reporting.index[f.unit]] == name
        ]
        index = reporting.names.index(name)
        costs = _Costs()
        if isinstance(rubric, WeightedRubric):
            counted = rubric.orders.narrowed(orders)
            tally = self._tallies(batches.facts, [counted], findings, reporting)[0][name]
            mine = _Mine(reporting, index, counted)
            for component in rubric.component:
                where = component.label
                weight = Fraction(component.weight)
                if component.requires and tally.metrics[component.requires].empty:
                    reason = f"no {component.requires} in the period: no points, no total"
                    costs.once([Cost(where, "does not apply", "—", reason, weight)])
                elif isinstance(component, Rate) and tally.metrics[component.metric].empty:
                    reason = f"no order counted for {component.metric}: no points, no total"
                    costs.once([Cost(where, "does not apply", "—", reason, weight)])
                elif isinstance(component, Ratings) and not sum(tally.ratings.values()):
                    reason = "no ratings in the period (未测评到满意度): no points, no total"
                    costs.once([Cost(where, "does not apply", "—", reason, weight)])
                elif isinstance(component, Rate):
                    measure = tally.metrics[component.metric]
                    if measure.denominator:
                        metric = self.reports.metric(component.metric)
                        each = weight / measure.denominator
                        costs.of_orders(_metric_costs(where, metric.label, metric, mine, each))
                elif isinstance(component, Ratings):
                    costs.of_orders(_rating_costs(component, mine, tally))
                elif isinstance(component, Deductions):
                    self._item_costs(costs, where, component.items, mine, findings, tally)
            self._item_costs(costs, "加分", rubric.bonus, mine, findings, tally)
        elif isinstance(rubric, DeductionRubric):
            parts = [part.orders.narrowed(orders) for part in rubric.part]
            tallies = self._tallies(batches.facts, parts, findings, reporting)
            for part, counted, tallied in zip(rubric.part, parts, tallies, strict=True):
                mine = _Mine(reporting, index, counted)
                for section in part.section:
                    where = f"{part.label} {section.label}"
                    self._item_costs(costs, where, section.items, mine, findings, tallied[name])
        else:
            raise InvalidInput(
                f"rubric {rubric.name} sets targets; it costs no points (see `report kpi`)"
            )
        return costs.gathered(batches.facts)

    # --- facts per unit -----------------------------------------------------------------------

    def _findings(self, readmodel: ReadModel, period: Period, rubric: str) -> list[FindingRecord]:
        return readmodel.findings(period.start, period.end, rubric=rubric)

    def _tallies(
        self,
        batches: Iterable[Facts],
        filters: Sequence[OrderFilter],
        findings: Sequence[FindingRecord],
        reporting: Reporting,
    ) -> list[dict[str, Tally]]:
        """For each of `filters`, every reported unit's tally over the orders it lets
        through, summed batch by batch (`Reports.batches`)."""
        names = list(reporting.names)
        sums: list[dict[str, Sums]] = [{} for _ in filters]
        grids = [np.zeros(len(names) * len(Rating), dtype=np.int64) for _ in filters]
        for facts in batches:
            for orders, found_sums, grid in zip(filters, sums, grids, strict=True):
                keys = reporting.keys(facts.orders.units)
                keys[~orders.chosen(facts.t)] = -1
                for m in self.reports.metrics:
                    batch = tally(m, facts).sums(keys, len(names))
                    before = found_sums.get(m.key)
                    found_sums[m.key] = batch if before is None else before + batch
                counted = facts.counted_ratings() & (keys >= 0)
                grid += np.bincount(
                    keys[counted] * len(Rating) + facts.orders.rating[counted],
                    minlength=len(names) * len(Rating),
                )
        found: dict[str, Counter[str]] = {name: Counter() for name in names}
        for finding in findings:
            if (row := reporting.index.get(finding.unit)) is not None:
                found[names[row]][finding.item] += finding.count
        metrics = {m.key: m for m in self.reports.metrics}
        tallies = []
        for found_sums, grid in zip(sums, grids, strict=True):
            measures = {
                key: [_measure(metrics[key], v) for v in each.values()]
                for key, each in found_sums.items()
            }
            by_rating = grid.reshape(len(names), len(Rating))
            tallies.append({
                name: Tally(
                    metrics={key: values[i] for key, values in measures.items()},
                    ratings={r: int(by_rating[i, r.code]) for r in Rating},
                    findings=found[name],
                )
                for i, name in enumerate(names)
            })  # fmt: skip
        return tallies

    # --- what cost the points -----------------------------------------------------------------

    def _item_costs(
        self,
        costs: _Costs,
        where: str,
        items: Sequence[Item],
        mine: _Mine,
        findings: Sequence[FindingRecord],
        tally: Tally,
    ) -> None:
        """The costs of `items` to `costs`, in the items' order."""
        for item in items:
            cap = f" (at most {item.cap})" if item.cap is not None else ""
            if isinstance(item, PerOrder):
                metric = self.reports.metric(item.metric)
                costs.of_orders(
                    _metric_costs(where, item.label + cap, metric, mine, Fraction(item.points))
                )
            elif isinstance(item, PerFinding):
                costs.once([
                    Cost(where, item.label + cap, f"finding {f.id}",
                         f"{f.day}: {mask_numbers(f.note)}"
                         + (f" (order {f.order})" if f.order else ""),
                         Fraction(item.points) * f.count)
                    for f in findings
                    if f.item == item.key
                ])  # fmt: skip
            else:
                loss = item_loss(item, tally)
                if loss.points:
                    rate = tally.metrics[item.metric].rate
                    shown = "—" if rate is None else f"{float(rate):.2f}"
                    reason = f"{self.reports.metric(item.metric).label} {shown} < {item.below}"
                    costs.once([Cost(where, item.label + cap, "rate", reason, loss.points)])


OrderCosts = Callable[[Facts], list[Cost]]
"""What the orders of a batch cost."""


@dataclass(frozen=True)
class _Mine:
    """A unit's orders (its `index` among the reporting units) that a filter lets through."""

    reporting: Reporting
    index: int
    counted: OrderFilter

    def of(self, facts: Facts) -> Flags:
        theirs: Flags = self.reporting.keys(facts.orders.units) == self.index
        return theirs & self.counted.chosen(facts.t)


class _Costs:
    """A unit's costs in the order they are shown; those of orders are gathered batch by
    batch (`Reports.batches`) into their place among the others."""

    def __init__(self) -> None:
        self.parts: list[list[Cost]] = []
        self.of_batches: list[tuple[list[Cost], OrderCosts]] = []

    def once(self, costs: list[Cost]) -> None:
        self.parts.append(costs)

    def of_orders(self, costs_of: OrderCosts) -> None:
        self.parts.append([])
        self.of_batches.append((self.parts[-1], costs_of))

    def gathered(self, batches: Iterable[Facts]) -> list[Cost]:
        if self.of_batches:
            for facts in batches:
                for part, costs_of in self.of_batches:
                    part += costs_of(facts)
        return [cost for part in self.parts for cost in part]


def _metric_costs(where: str, item: str, metric: Metric, mine: _Mine, each: Fraction) -> OrderCosts:
    """Each of the unit's orders that cost `metric`, `each` points."""

    def costs(facts: Facts) -> list[Cost]:
        return [
            Cost(where, item, facts.orders.numbers[row], reason, each)
            for row, reason in explain(metric, facts, mine.of(facts))
        ]

    return costs


def _rating_costs(component: Ratings, mine: _Mine, tally: Tally) -> OrderCosts:
    """Each of the unit's ratings below full points, its share of the component's weight."""
    rated = sum(tally.ratings.values())
    full = max(component.points.values())
    ratings = list(Rating)

    def costs(facts: Facts) -> list[Cost]:
        found = []
        for row in np.flatnonzero(mine.of(facts) & facts.counted_ratings()):
            rating = ratings[int(facts.orders.rating[row])]
            lost = Fraction(full - component.points[rating])
            if lost:
                points = Fraction(component.weight) * lost / (100 * rated)
                reason = f"rated {rating.value} ({rating.label}, {component.points[rating]} points)"
                found.append(
                    Cost(component.label, "满意度测评", facts.orders.numbers[row], reason, points)
                )
        return found

    return costs


def _measure(metric: Metric, value: MetricValue) -> Measure:
    """A metric's value for the scoring: the exact numerator, the denominator, the scale."""
    numerator = Fraction(value.numerator) / metric.minor_units
    return Measure(numerator, value.denominator, int(metric.scale))
