"""Rubrics (考核办法) as data: how metrics become points, totals and grades (domain.md §7).

A rubric is a TOML file under `rubrics/`, validated by these models when loaded;
scoring (`hotline.domain.scoring`) only follows what the file says. Three kinds:

- `weighted`: indicators with weights summed to a total, ranked and graded within
  groups (`shanghai-12345-2019`, results-2019/review-2019);
- `deductions`: parts worth some points, losing points per late order, per
  finding … (`market-office-2017`, standard-2017 Ⅵ-8-5, Ⅵ-8-1);
- `targets`: a metric against a threshold, met or not (`kpi-2023`, hotline-2023).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.domain.keys import Key, Name
from hotline.domain.limits import Flags, Timelines
from hotline.domain.vocabulary import Channel, Kind, Rating

Text = Annotated[str, Field(min_length=1, max_length=200)]
Positive = Annotated[Decimal, Field(gt=0, le=1000)]
NonNegative = Annotated[Decimal, Field(ge=0, le=1000)]
V = TypeVar("V", Channel, Kind)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerOrder(_Model):
    """Points per order a metric counts against the unit (a late order, a 不满意 …).

    `count = "shortfalls"`: the metric's counted orders that missed (for a rate);
    `"numerator"`: what the metric counts (for a count, or 不满意 among ratings).
    """

    kind: Literal["per_order"] = "per_order"
    key: Key
    label: Text
    metric: Key
    count: Literal["shortfalls", "numerator"] = "shortfalls"
    points: Positive
    cap: Positive | None = None
    note: str = ""


class PerFinding(_Model):
    """Points per finding an inspector entered (`hotline finding add`): a judgement
    the events cannot show (data-standard errors, document quality, 三方转接)."""

    kind: Literal["per_finding"] = "per_finding"
    key: Key
    label: Text
    points: Positive
    cap: Positive | None = None
    note: str = ""


class BelowRate(_Model):
    """Points when a rate falls below a floor, more per further step down, e.g. 实际解决率
    below 75%: 1 point, plus 0.4 per further 5%, at most 2."""

    kind: Literal["below_rate"] = "below_rate"
    key: Key
    label: Text
    metric: Key
    below: NonNegative
    points: Positive
    step: Positive
    step_points: NonNegative = Decimal(0)
    cap: Positive | None = None
    note: str = ""


Item = Annotated[PerOrder | PerFinding | BelowRate, Field(discriminator="kind")]


class OrderFilter(_Model):
    """Which orders a rubric part counts (its coverage), by channel (来源渠道) and kind
    (工单类型): a list names the ones counted, no list counts every one, an empty list none
    (what is left when a `--channel` contradicts a part's coverage)."""

    channels: tuple[Channel, ...] | None = None
    kinds: tuple[Kind, ...] | None = None

    def narrowed(self, other: OrderFilter) -> OrderFilter:
        """The orders both filters let through (a part's coverage and what was asked)."""
        return OrderFilter(
            channels=_both(self.channels, other.channels), kinds=_both(self.kinds, other.kinds)
        )

    def chosen(self, t: Timelines) -> Flags:
        """Which orders of `t` the filter lets through."""
        found: Flags = np.ones(len(t.channel), dtype=bool)
        if self.channels is not None:
            found &= np.isin(t.channel, [c.code for c in self.channels])
        if self.kinds is not None:
            found &= np.isin(t.kind, [k.code for k in self.kinds])
        return found

    @property
    def label(self) -> str:
        """What it counts, for a report's heading: "channel 12315, kind complaint"."""
        shown = [
            f"{name} {'/'.join(v.value for v in values) if values else 'none'}"
            for name, values in (("channel", self.channels), ("kind", self.kinds))
            if values is not None
        ]
        return ", ".join(shown) or "every order"

    def document(self) -> dict[str, list[str] | None]:
        """As a JSON document says it, with the import's names (None: every one)."""
        return {
            "channel": None if self.channels is None else [c.value for c in self.channels],
            "kind": None if self.kinds is None else [k.value for k in self.kinds],
        }


EVERY_ORDER = OrderFilter()


def _both(first: tuple[V, ...] | None, second: tuple[V, ...] | None) -> tuple[V, ...] | None:
    if first is None or second is None:
        return second if first is None else first
    return tuple(v for v in first if v in second)


# --- weighted ---------------------------------------------------------------------------------


class _Component(_Model):
    key: Key
    label: Text
    """The heading, e.g. 受理数量; shown with the weight: 受理数量（10%）."""
    weight: Positive
    decimals: int = Field(default=2, ge=0, le=6)
    full_as_whole: bool = False
    """Print the full weight as a whole number and any other value to `decimals` places:
    the 2019 tables print 满意度 "35" but "29.00"."""
    requires: Key | None = None
    """A metric whose count must be non-zero for the component to apply (else blank)."""


class Share(_Component):
    """weight × the unit's count ÷ its group's count (受理数量: 10 × volume share)."""

    method: Literal["share"] = "share"
    metric: Key


class Rate(_Component):
    """weight × a rate (按时办结: 30 × on-time rate); blank when the rate counts no order."""

    method: Literal["rate"] = "rate"
    metric: Key


class Ratings(_Component):
    """weight × the mean of points per rating ÷ 100 (满意度: 35 × score ÷ 100), over the
    ratings given in the period, excluded ones left out; blank with no ratings."""

    method: Literal["ratings"] = "ratings"
    points: dict[Rating, NonNegative]

    @model_validator(mode="after")
    def _every_rating(self) -> Ratings:
        missing = [r.value for r in Rating if r not in self.points]
        if missing:
            raise ValueError(f"points for every rating are needed; missing: {', '.join(missing)}")
        if any(p > 100 for p in self.points.values()):
            raise ValueError("points per rating are out of 100")
        return self


class Deductions(_Component):
    """weight less deductions, not below 0 (诉求解决: 25 − 督办有责, 二次退回 …)."""

    method: Literal["deductions"] = "deductions"
    items: tuple[Item, ...] = ()


Component = Annotated[Share | Rate | Ratings | Deductions, Field(discriminator="method")]


class Grade(_Model):
    name: Text
    share: Annotated[Decimal, Field(gt=0, le=1)]


class GroupSpec(_Model):
    """A group of units scored within itself, and how its table is printed."""

    key: Key
    """The group's key in the unit registry."""
    annex: str = ""
    """Its place in the notice (附件1)."""
    title: str = ""
    """The table's title, after the period: 各区市场监管局、机场分局“12345”…汇总表."""
    units: tuple[Text, ...] = ()
    """The units assessed, in the notice's order; empty: the registry's group."""
    order: Literal["rank", "listed"] = "rank"
    """Rows by rank (附件1, 附件3), or in the listed order (附件2)."""
    grades: tuple[Grade, ...] = ()
    """By rank, best first; counts rounded half up, the last grade takes the rest."""

    @model_validator(mode="after")
    def _shares_add_up(self) -> GroupSpec:
        if self.grades and sum(g.share for g in self.grades) != 1:
            raise ValueError("the grades' shares must add up to 1")
        return self


class WeightedRubric(_Model):
    kind: Literal["weighted"]
    name: Name
    title: Text
    source: str = ""
    orders: OrderFilter
    """The orders every component counts (required, as a deduction part's)."""
    total_decimals: int = Field(default=2, ge=0, le=6)
    component: tuple[Component, ...] = Field(min_length=1)
    bonus: tuple[PerFinding, ...] = ()
    group: tuple[GroupSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> WeightedRubric:
        _unique([c.key for c in self.component], "component")
        _unique([g.key for g in self.group], "group")
        _unique(
            [i.key for c in self.component if isinstance(c, Deductions) for i in c.items]
            + [b.key for b in self.bonus],
            "item",
        )
        return self


# --- deductions -------------------------------------------------------------------------------


class Section(_Model):
    """Items that together cost at most the section's points (办结情况 6 …)."""

    key: Key
    label: Text
    points: Positive
    items: tuple[Item, ...] = Field(min_length=1)


class Part(_Model):
    """A rubric line worth some points (Ⅵ-8-5, 20 points), over some of the orders."""

    key: Key
    label: Text
    points: Positive
    orders: OrderFilter
    """Required: a part that counted every order by default is how 12315 complaints came to
    cost points in 12345 tables (issue 17); `orders = {}` counts every order."""
    section: tuple[Section, ...] = Field(min_length=1)


class DeductionRubric(_Model):
    kind: Literal["deductions"]
    name: Name
    title: Text
    source: str = ""
    groups: tuple[Key, ...] = ()
    """The unit groups it applies to; empty: all."""
    part: tuple[Part, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> DeductionRubric:
        _unique([p.key for p in self.part], "part")
        _unique([i.key for p in self.part for s in p.section for i in s.items], "item")
        return self


# --- targets ----------------------------------------------------------------------------------


class Target(_Model):
    """A metric's value against a threshold: at least or at most."""

    metric: Key
    label: Text
    at_least: Decimal | None = None
    at_most: Decimal | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least, at_most")
        return self

    def met(self, value: Fraction) -> bool:
        """Whether `value` (exact) meets the target."""
        if self.at_least is not None:
            return value >= Fraction(self.at_least)
        assert self.at_most is not None
        return value <= Fraction(self.at_most)

    @property
    def threshold(self) -> str:
        return f"≥ {self.at_least}" if self.at_least is not None else f"≤ {self.at_most}"


class TargetRubric(_Model):
    kind: Literal["targets"]
    name: Name
    title: Text
    source: str = ""
    orders: OrderFilter
    """The orders every target counts (required, as a deduction part's)."""
    target: tuple[Target, ...] = Field(min_length=1)


Rubric = WeightedRubric | DeductionRubric | TargetRubric
KINDS: dict[str, type[Rubric]] = {
    "weighted": WeightedRubric,
    "deductions": DeductionRubric,
    "targets": TargetRubric,
}


def finding_items(rubric: Rubric) -> dict[str, PerFinding]:
    """The items of `rubric` that findings feed, by key."""
    if isinstance(rubric, WeightedRubric):
        items = [i for c in rubric.component if isinstance(c, Deductions) for i in c.items]
        items += rubric.bonus
    elif isinstance(rubric, DeductionRubric):
        items = [i for p in rubric.part for s in p.section for i in s.items]
    else:
        items = []
    return {i.key: i for i in items if isinstance(i, PerFinding)}


def coverage(rubric: Rubric, asked: OrderFilter = EVERY_ORDER) -> dict[str, OrderFilter]:
    """The orders each part of `rubric` counts (keyed by part; a weighted or targets rubric
    is one part, keyed by its name), narrowed to those `asked` for."""
    if isinstance(rubric, DeductionRubric):
        return {part.key: part.orders.narrowed(asked) for part in rubric.part}
    return {rubric.name: rubric.orders.narrowed(asked)}


def metric_keys(rubric: Rubric) -> list[tuple[str, str]]:
    """(where, metric key) of every metric `rubric` names, `where` as a key path."""
    found: list[tuple[str, str]] = []
    if isinstance(rubric, WeightedRubric):
        for c, component in enumerate(rubric.component):
            if isinstance(component, Share | Rate):
                found.append((f"component[{c}].metric", component.metric))
            if component.requires:
                found.append((f"component[{c}].requires", component.requires))
            if isinstance(component, Deductions):
                found += _item_metrics(component.items, f"component[{c}].items")
    elif isinstance(rubric, DeductionRubric):
        for p, part in enumerate(rubric.part):
            for s, section in enumerate(part.section):
                found += _item_metrics(section.items, f"part[{p}].section[{s}].items")
    else:
        found = [(f"target[{t}].metric", target.metric) for t, target in enumerate(rubric.target)]
    return found


def _item_metrics(items: tuple[Item, ...], where: str) -> list[tuple[str, str]]:
    return [
        (f"{where}[{i}].metric", item.metric)
        for i, item in enumerate(items)
        if isinstance(item, PerOrder | BelowRate)
    ]


def _unique(keys: list[str], what: str) -> None:
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"{what} key(s) used twice: {', '.join(twice)}")
