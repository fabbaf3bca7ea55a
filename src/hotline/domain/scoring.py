"""Scoring: a rubric applied to what each unit did in a period (domain.md §7).

Points are computed exactly (fractions) and rounded half up only where they are
shown; a total is the unrounded parts summed, then rounded, as the official
tables do (闵行区市场监管局: 1.6006 + 30 + 25 + 33.51… = 90.12). Units are ranked
by what is shown: two units both printed 95.00 share a rank, as in the published
tables, whatever digits lie beyond.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from hotline.domain.errors import InvalidInput
from hotline.domain.periods import Period
from hotline.domain.rubric import (
    BelowRate,
    Component,
    DeductionRubric,
    Deductions,
    GroupSpec,
    Item,
    PerFinding,
    PerOrder,
    Rate,
    Ratings,
    Rubric,
    Share,
    Target,
    TargetRubric,
    WeightedRubric,
)
from hotline.domain.units import Level, UnitRegistry
from hotline.domain.vocabulary import Rating

K = TypeVar("K", bound=Hashable)


def half_up(value: Fraction, decimals: int) -> Decimal:
    """`value` rounded half up (away from zero) to `decimals` places, exactly."""
    scaled = abs(value) * 10**decimals
    rounded = math.floor(scaled + Fraction(1, 2))
    return Decimal(rounded if value >= 0 else -rounded).scaleb(-decimals)


POINTS_DECIMALS = 2
"""Points lost or left and a bonus are shown to 2 decimals (a component and a total to the
rubric's own `decimals`)."""
COST_DECIMALS = 4
"""What one order or finding cost (`report explain --rubric`) is shown to 4 decimals."""


def shown_points(value: Fraction) -> Decimal:
    """Points as shown: rounded half up to `POINTS_DECIMALS`."""
    return half_up(value, POINTS_DECIMALS)


def shown_text(value: Decimal | None, decimals: int, trim_whole: bool = False) -> str | None:
    """A shown value as printed: to `decimals` places ("6.00", "1.50"); with `trim_whole`, a
    whole number without them ("6"), as the tables print 受理数量 and points lost. None (it
    does not apply) stays None."""
    if value is None:
        return None
    if trim_whole and value == value.to_integral_value():
        return str(int(value))
    return f"{value:.{decimals}f}"


def component_text(component: Component, value: Decimal | None) -> str | None:
    """A component's shown points as the official tables print them: to its decimals, the
    full weight whole where the rubric says so ("35", "29.00")."""
    whole = component.full_as_whole and value == component.weight
    return shown_text(value, component.decimals, whole)


def ranks(shown: Mapping[K, Decimal | None]) -> dict[K, int]:
    """Each key's rank by its shown value, highest first: equal shown values share a rank and
    the next rank is skipped (1, 2, 2, 4), as the published tables rank; a key without a
    value is unranked (left out)."""
    values = [value for value in shown.values() if value is not None]
    return {
        key: 1 + sum(1 for other in values if other > value)
        for key, value in shown.items()
        if value is not None
    }


def chosen_units(
    registry: UnitRegistry,
    unit: str | None = None,
    group: str | None = None,
    rubric: Rubric | None = None,
    *,
    period: Period | None = None,
    level: Level = Level.BUREAU,
) -> dict[str, tuple[str, ...]]:
    """Group key → the units a report covers there, in listed order: `unit` alone, `group`'s,
    or every unit `rubric` assesses (a weighted rubric's groups and their listed units, a
    deduction rubric's `groups`, none meaning all; every unit without a rubric). Over a
    `period`, a group's units are those in effect then, by their names on its last day. At
    the office level, the offices under those units (`unit` may name an office). Refused: a
    unit and a group both, and a group or a unit the rubric does not assess."""
    if unit is not None and group is not None:
        raise InvalidInput("give either --unit or --group, not both")

    def members(key: str) -> tuple[str, ...]:
        if period is None:
            return registry.group(key).units
        return registry.reporting(period.start, period.end, groups=[key]).names

    def named(units: tuple[str, ...]) -> tuple[str, ...]:
        """A rubric's listed units, by their names at the period's end."""
        if period is None:
            return units
        return tuple(dict.fromkeys(registry.reported(u, period.end) for u in units))

    assessed = {g.key: members(g.key) for g in registry.groups}
    if isinstance(rubric, WeightedRubric):
        assessed = {s.key: named(s.units) or members(s.key) for s in rubric.group}
    elif isinstance(rubric, DeductionRubric) and rubric.groups:
        assessed = {key: members(key) for key in rubric.groups}
    what = f"rubric {rubric.name}" if rubric is not None else "the unit registry"
    if level is Level.OFFICE:
        return _offices(registry, assessed, unit, group, period, what)
    if unit is not None:
        found = registry.get(unit)
        if found.under is not None:
            raise InvalidInput(
                f"{found.name} is an office (under {found.under}); add --level office"
            )
        name = found.name if period is None else registry.reported(found.name, period.end)
        if name not in assessed.get(found.group, ()):
            raise InvalidInput(f"{what} does not assess {name} (group {found.group!r})")
        return {found.group: (name,)}
    if group is not None:
        key = registry.group(group).key
        if key not in assessed:
            raise InvalidInput(f"{what} does not score group {key!r}")
        return {key: assessed[key]}
    return assessed


def one_unit(chosen: dict[str, tuple[str, ...]], unit: str) -> str:
    """The one unit `chosen` holds; a bureau given at the office level is refused."""
    names = [name for names in chosen.values() for name in names]
    if len(names) != 1:
        raise InvalidInput(
            f"{unit} is a bureau with offices {', '.join(names)}; explain one office at a time"
        )
    return names[0]


def _offices(
    registry: UnitRegistry,
    assessed: dict[str, tuple[str, ...]],
    unit: str | None,
    group: str | None,
    period: Period | None,
    what: str,
) -> dict[str, tuple[str, ...]]:
    """`chosen_units` at the office level: the offices under the units chosen."""
    start, end = (period.start, period.end) if period else (date.min, date.max)
    offices = registry.reporting(start, end, Level.OFFICE).names
    if unit is not None:
        found = registry.get(unit)
        if found.under is not None:
            name = registry.reported(found.name, end, Level.OFFICE)
            bureau = registry.reported(found.under, end)
            if bureau not in assessed.get(found.group, ()):
                raise InvalidInput(f"{what} does not assess {bureau} (group {found.group!r})")
            return {found.group: (name,)}
        bureaux = {registry.reported(found.name, end)}
        groups = {found.group: assessed.get(found.group, ())}
    else:
        if group is not None:
            key = registry.group(group).key
            if key not in assessed:
                raise InvalidInput(f"{what} does not score group {key!r}")
            groups = {key: assessed[key]}
        else:
            groups = assessed
        bureaux = {name for names in groups.values() for name in names}
    chosen = {
        key: tuple(
            o
            for o in offices
            if registry.get(o).group == key and registry.reported(o, end) in bureaux
        )
        for key in groups
    }
    chosen = {key: names for key, names in chosen.items() if names}
    if not chosen:
        raise InvalidInput(
            f"no office (市场监管所) is under {unit or group or 'any unit'} in the unit "
            "registry (see `hotline units`)"
        )
    return chosen


@dataclass(frozen=True)
class Measure:
    """A metric's numbers for one unit: a count (no denominator) or a rate."""

    numerator: Fraction
    denominator: int | None
    scale: int = 100

    @property
    def rate(self) -> Fraction | None:
        """numerator ÷ denominator × scale; None for a count or over no orders."""
        if not self.denominator:
            return None
        return self.numerator * self.scale / self.denominator

    @property
    def empty(self) -> bool:
        """Nothing counted: a zero count, or a rate over no orders."""
        return self.numerator == 0 if self.denominator is None else self.denominator == 0

    def orders(self, count: str) -> Fraction:
        """How many orders an item charges: the numerator, or the rate's shortfalls."""
        if count == "shortfalls" and self.denominator is not None:
            return self.denominator - self.numerator
        return self.numerator


@dataclass(frozen=True)
class Tally:
    """What one unit did in the period, as the scoring needs it."""

    metrics: Mapping[str, Measure]
    ratings: Mapping[Rating, int] = field(default_factory=dict)
    """Ratings given in the period, excluded ones left out."""
    findings: Mapping[str, int] = field(default_factory=dict)
    """Item key → how many findings (their counts summed)."""


# --- items ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemLoss:
    """What one item cost (or, for a bonus, earned) a unit."""

    item: Item
    count: Fraction | None
    """Orders or findings charged; None for a rate floor."""
    points: Fraction
    """After the item's cap."""


def item_loss(item: Item, tally: Tally) -> ItemLoss:
    """The points `item` charges for `tally`, capped."""
    count: Fraction | None
    if isinstance(item, PerOrder):
        count = tally.metrics[item.metric].orders(item.count)
        points = Fraction(item.points) * count
    elif isinstance(item, PerFinding):
        count = Fraction(tally.findings.get(item.key, 0))
        points = Fraction(item.points) * count
    else:
        count = None
        points = _below_rate(item, tally.metrics[item.metric].rate)
    if item.cap is not None:
        points = min(points, Fraction(item.cap))
    return ItemLoss(item, count, points)


def _below_rate(item: BelowRate, rate: Fraction | None) -> Fraction:
    below = Fraction(item.below)
    if rate is None or rate >= below:
        return Fraction(0)
    steps = math.floor((below - rate) / Fraction(item.step))
    return Fraction(item.points) + steps * Fraction(item.step_points)


# --- weighted rubrics -------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentScore:
    key: str
    exact: Fraction | None
    """None: the component does not apply (no ratings, nothing due)."""
    shown: Decimal | None
    items: tuple[ItemLoss, ...] = ()


@dataclass(frozen=True)
class UnitScore:
    unit: str
    group: str
    components: dict[str, ComponentScore]
    bonus: tuple[ItemLoss, ...]
    total: Decimal | None
    rank: int | None = None
    grade: str | None = None
    number: int = 0
    """序号: its row in the group's table."""

    @property
    def bonus_points(self) -> Fraction:
        return sum((b.points for b in self.bonus), Fraction(0))


@dataclass(frozen=True)
class GroupScores:
    spec: GroupSpec
    name: str
    rows: list[UnitScore]
    """In the table's order: by rank, or as listed."""
    grades: list[tuple[str, list[str]]]
    """Each grade with its units, best first (empty for an ungraded group)."""


def score_weighted(
    rubric: WeightedRubric,
    groups: Sequence[tuple[GroupSpec, str, Sequence[str]]],
    tallies: Mapping[str, Tally],
) -> list[GroupScores]:
    """Every unit's components, total, rank and grade; `groups` gives each group's spec,
    name and units in listed order."""
    return [_score_group(rubric, spec, name, list(units), tallies) for spec, name, units in groups]


def _score_group(
    rubric: WeightedRubric,
    spec: GroupSpec,
    name: str,
    units: list[str],
    tallies: Mapping[str, Tally],
) -> GroupScores:
    totals = {
        c.key: sum((tallies[u].metrics[c.metric].numerator for u in units), Fraction(0))
        for c in rubric.component
        if isinstance(c, Share)
    }
    scored = [_score_unit(rubric, spec.key, unit, tallies[unit], totals) for unit in units]
    ranked = sorted((s for s in scored if s.total is not None), key=lambda s: -_total(s))
    rank = ranks({s.unit: s.total for s in scored})
    cutoffs = _grade_cutoffs(spec, len(ranked))
    rows = ranked + [s for s in scored if s.total is None] if spec.order == "rank" else scored
    final = [
        UnitScore(
            s.unit, s.group, s.components, s.bonus, s.total,
            rank=rank.get(s.unit),
            grade=_grade(cutoffs, rank[s.unit]) if s.unit in rank else None,
            number=number,
        )
        for number, s in enumerate(rows, start=1)
    ]  # fmt: skip
    grades = [
        (grade, [s.unit for s in ranked if _grade(cutoffs, rank[s.unit]) == grade])
        for grade, _ in cutoffs
    ]
    return GroupScores(spec, name, final, grades)


def _total(score: UnitScore) -> Decimal:
    assert score.total is not None
    return score.total


def _score_unit(
    rubric: WeightedRubric, group: str, unit: str, tally: Tally, totals: Mapping[str, Fraction]
) -> UnitScore:
    components: dict[str, ComponentScore] = {}
    for c in rubric.component:
        items: tuple[ItemLoss, ...] = ()
        exact: Fraction | None
        weight = Fraction(c.weight)
        if c.requires and tally.metrics[c.requires].empty:
            exact = None
        elif isinstance(c, Share):
            group_count = totals[c.key]
            exact = (
                weight * tally.metrics[c.metric].numerator / group_count if group_count else None
            )
        elif isinstance(c, Rate):
            rate = tally.metrics[c.metric].rate
            exact = None if rate is None else weight * rate / 100
        elif isinstance(c, Ratings):
            rated = sum(tally.ratings.get(r, 0) for r in Rating)
            points = sum(Fraction(c.points[r]) * tally.ratings.get(r, 0) for r in Rating)
            exact = weight * points / (100 * rated) if rated else None
        else:
            assert isinstance(c, Deductions)
            items = tuple(item_loss(item, tally) for item in c.items)
            exact = max(Fraction(0), weight - sum((i.points for i in items), Fraction(0)))
        shown = None if exact is None else half_up(exact, c.decimals)
        components[c.key] = ComponentScore(c.key, exact, shown, items)
    bonus = tuple(item_loss(item, tally) for item in rubric.bonus)
    parts = [score.exact for score in components.values()]
    total: Decimal | None = None
    if all(part is not None for part in parts):
        exact_total = sum((part for part in parts if part is not None), Fraction(0))
        exact_total += sum((b.points for b in bonus), Fraction(0))
        total = half_up(exact_total, rubric.total_decimals)
    return UnitScore(unit, group, components, bonus, total)


def grade_counts(spec: GroupSpec, graded: int) -> list[tuple[str, int]]:
    """How many of `graded` units get each grade: shares rounded half up, the last grade
    the rest (17 units at 50/30/20%: 9 / 5 / 3)."""
    counts: list[tuple[str, int]] = []
    left = graded
    for index, grade in enumerate(spec.grades):
        last = index == len(spec.grades) - 1
        wanted = left if last else int(half_up(Fraction(grade.share) * graded, 0))
        count = min(wanted, left)
        counts.append((grade.name, count))
        left -= count
    return counts


def _grade_cutoffs(spec: GroupSpec, graded: int) -> list[tuple[str, int]]:
    """(grade, the last rank position it covers)."""
    cutoffs: list[tuple[str, int]] = []
    reached = 0
    for grade, count in grade_counts(spec, graded):
        reached += count
        cutoffs.append((grade, reached))
    return cutoffs


def _grade(cutoffs: list[tuple[str, int]], rank: int) -> str | None:
    """A unit's grade by its rank: tied units share the better grade."""
    for grade, last in cutoffs:
        if rank <= last:
            return grade
    return None


# --- deduction rubrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionLoss:
    key: str
    label: str
    points: Fraction
    items: tuple[ItemLoss, ...]
    lost: Fraction
    """The items' points summed, at most the section's points."""


@dataclass(frozen=True)
class PartScore:
    key: str
    label: str
    points: Fraction
    sections: tuple[SectionLoss, ...]
    lost: Fraction
    """The sections' losses summed, at most the part's points."""

    @property
    def score(self) -> Fraction:
        return self.points - self.lost


@dataclass(frozen=True)
class UnitDeductions:
    unit: str
    group: str
    parts: tuple[PartScore, ...]

    @property
    def points(self) -> Fraction:
        return sum((p.points for p in self.parts), Fraction(0))

    @property
    def lost(self) -> Fraction:
        return sum((p.lost for p in self.parts), Fraction(0))

    @property
    def score(self) -> Fraction:
        return self.points - self.lost


def score_deductions(
    rubric: DeductionRubric, unit: str, group: str, tallies: Mapping[str, Tally]
) -> UnitDeductions:
    """`unit`'s deductions; `tallies` holds its tally for each part (by part key), as each
    part looks at different orders."""
    parts: list[PartScore] = []
    for part in rubric.part:
        tally = tallies[part.key]
        sections = []
        for section in part.section:
            items = tuple(item_loss(item, tally) for item in section.items)
            summed = sum((i.points for i in items), Fraction(0))
            lost = min(summed, Fraction(section.points))
            sections.append(SectionLoss(section.key, section.label, Fraction(section.points),
                                        items, lost))  # fmt: skip
        lost = min(sum((s.lost for s in sections), Fraction(0)), Fraction(part.points))
        parts.append(PartScore(part.key, part.label, Fraction(part.points), tuple(sections), lost))
    return UnitDeductions(unit, group, tuple(parts))


def deduction_ranks(rows: Sequence[UnitDeductions]) -> dict[str, int]:
    """Each unit's rank within its group by its shown score (what is left of its points)."""
    by_group: dict[str, dict[str, Decimal | None]] = {}
    for row in rows:
        by_group.setdefault(row.group, {})[row.unit] = shown_points(row.score)
    return {unit: rank for shown in by_group.values() for unit, rank in ranks(shown).items()}


# --- targets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetResult:
    target: Target
    value: Fraction | None
    """The metric's rate; None where it counted nothing."""

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.target.met(self.value)


def check_targets(rubric: TargetRubric, tally: Tally) -> list[TargetResult]:
    """Each target of `rubric` against `tally`'s metrics."""
    results = []
    for target in rubric.target:
        measure = tally.metrics[target.metric]
        value = measure.rate if measure.denominator is not None else measure.numerator
        results.append(TargetResult(target, value))
    return results
