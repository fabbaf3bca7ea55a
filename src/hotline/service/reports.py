"""Managers' reports: metrics per unit, group and system for a period, the orders
behind them, and the orders that need action now.

Every report first catches the projection up, so it never misses an event that
was logged; `as_of` answers as the store stood at a recorded time instead, and a
read side made with `judged_on` judges the limits on a past day with every event
that happened by its end, whenever it was recorded. The
calendar and the rules are applied at query time: amending the calendar changes
the next report, with no rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property

import numpy as np

from hotline.adapters.readmodel import FlagRecord, ReadModel
from hotline.adapters.rubric_files import load_metrics
from hotline.domain import lengths
from hotline.domain.aggregate import in_shanghai, now
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import InvalidInput
from hotline.domain.facts import CATEGORY_COLUMNS, FactColumns, StatusCode, fold
from hotline.domain.limits import Flags, LimitName, LimitStatus, evaluate, limit_columns
from hotline.domain.lookback import Lookback, lookback
from hotline.domain.metrics import (
    Facts,
    Metric,
    MetricValue,
    OrderColumns,
    Sums,
    explain,
    ordered,
    tally,
)
from hotline.domain.periods import Period
from hotline.domain.rubric import EVERY_ORDER, OrderFilter
from hotline.domain.scoring import chosen_units, one_unit
from hotline.domain.units import Level
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection

SYSTEM = "system"


@dataclass(frozen=True)
class RatesRow:
    """One unit's, group's or the whole system's metrics."""

    name: str
    level: str
    """`unit`, `group` or `system`."""
    group: str
    values: dict[str, MetricValue]


@dataclass(frozen=True)
class Rates:
    period: Period
    today: date
    """The day limits were judged on (today, the --as-of day, or the --judged-on day)."""
    as_of: datetime | None
    metrics: list[Metric]
    rows: list[RatesRow]
    orders: OrderFilter
    """The orders counted (by channel and kind)."""


@dataclass(frozen=True)
class Batches:
    """A period's facts a batch of orders at a time (`Reports.batches`), the day limits are
    judged on, and the read model they come from."""

    read: Callable[[], Iterator[Facts]]
    today: date
    readmodel: ReadModel

    @property
    def facts(self) -> Iterator[Facts]:
        """The batches, read afresh on each use: a command that needs the period's sums
        before it can say what each order cost reads the batches twice."""
        return self.read()


def _check_category(category: Sequence[str]) -> None:
    if len(category) > lengths.CATEGORY_LEVELS or not all(category):
        raise InvalidInput(
            f"--category takes 1 to {lengths.CATEGORY_LEVELS} levels, none of them empty"
        )


@dataclass(frozen=True)
class MissedOrder:
    """An order that cost a metric, and why."""

    metric: Metric
    number: str
    unit: str
    reason: str


@dataclass(frozen=True)
class DueOrder:
    """An open order whose limit has passed or falls due soon."""

    number: str
    unit: str
    limit: LimitName
    status: LimitStatus
    due: date
    working_days_left: int
    flagged: FlagRecord | None
    """The scheduler's latest flag on this limit, if it flagged it for this due date."""
    working_today: bool = True
    """Whether the day judged on is a working day on the order's calendar (a local closure
    of its unit or district makes it off): the scheduler flags nothing on a day off."""


class HotspotKey(StrEnum):
    """What `hotspots` groups orders by."""

    CATEGORY = "category"
    ENTITY = "entity"
    STREET = "street"
    DISTRICT = "district"

    def columns(self, level: int) -> tuple[str, ...]:
        """The read model's columns of a group's key: a category's levels down to `level`
        (a 二级分类 is read under its 一级), a street with its district, an entity with its
        code."""
        if self is HotspotKey.CATEGORY:
            return CATEGORY_COLUMNS[:level]
        return {
            HotspotKey.ENTITY: ("entity", "entity_code"),
            HotspotKey.STREET: ("district", "street"),
            HotspotKey.DISTRICT: ("district",),
        }[self]

    def given(self, key: tuple[str | None, ...]) -> bool:
        """Whether an order's key was given: its last column (the category's level asked
        for, the street, the district), or for an entity its name or its code."""
        if self is HotspotKey.ENTITY:
            return any(value is not None for value in key)
        return key[-1] is not None


@dataclass(frozen=True)
class Hotspot:
    """Orders received in a period that share a key (a category, an entity, a street)."""

    key: tuple[str | None, ...]
    """The key's values, in `HotspotKey.columns` order; all None: the orders without one."""
    orders: int
    repeats: int
    """How many of them are repeat orders (重复工单: `repeat_of` set)."""
    share: float
    """Their share of all the orders received in the period (the unit's, if one is asked)."""


@dataclass(frozen=True)
class Hotspots:
    """Where a period's orders concentrate: the `top` keys by orders, then repeats."""

    period: Period
    by: HotspotKey
    level: int
    unit: str | None
    columns: tuple[str, ...]
    orders: int
    """All the orders received in the period (of the unit)."""
    repeats: int
    keys: int
    """How many different keys the orders have (before `top`)."""
    rows: list[Hotspot]
    not_given: Hotspot | None
    """The orders with no such key (None if every order has one)."""
    as_of: datetime | None = None


class Reports:
    """Reports over the read model of `app`'s store (its own, unless another is given): the
    read side every command that reads goes through. Given `judged_on`, its reports judge
    the limits on that day, of the events that happened by its end (recorded whenever):
    an order closed after it is open on it, a limit due after it pending."""

    def __init__(
        self,
        app: HotlineApplication,
        readmodel: ReadModel | None = None,
        judged_on: date | None = None,
    ) -> None:
        self.app = app
        self.readmodel = app.readmodel if readmodel is None else readmodel
        self.projection = OrderProjection(app, self.readmodel)
        self.judged_on = judged_on
        self._judged: ReadModel | None = None

    def current(self) -> ReadModel:
        """The read model caught up with the store first, so a read never misses an event
        that was logged."""
        self.projection.catch_up()
        return self.readmodel

    @cached_property
    def metrics(self) -> list[Metric]:
        return ordered(load_metrics(self.app.settings.projections))

    def metric(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        known = ", ".join(m.key for m in self.metrics)
        raise InvalidInput(f"unknown metric {key!r}; use one of: {known}")

    def rates(
        self,
        period: Period,
        *,
        unit: str | None = None,
        group: str | None = None,
        as_of: datetime | None = None,
        category: Sequence[str] = (),
        level: Level = Level.BUREAU,
        orders: OrderFilter = EVERY_ORDER,
    ) -> Rates:
        """Every metric per unit (all, a group's, or one), per group and system-wide; of the
        orders of `category` (its first levels), if given, and of those `orders` lets
        through. A bureau counts its offices' orders; at the office level the rows are the
        offices (of `unit`, if a bureau)."""
        registry = self.app.units
        chosen = chosen_units(registry, unit, group, period=period, level=level)
        bureaux = registry.reporting(period.start, period.end)
        reporting = (
            bureaux
            if level is Level.BUREAU
            else registry.reporting(period.start, period.end, level)
        )
        groups = list(registry.groups)
        position = {g.key: i for i, g in enumerate(groups)}
        group_of_bureau = np.asarray([position[key] for key in bureaux.groups], dtype=np.int64)
        # Per metric: the sums per unit, per group and system-wide, added up batch by batch.
        sums: dict[str, list[Sums]] = {}
        batches = self.batches(period, as_of, category)
        for facts in batches.facts:
            left_out = ~orders.chosen(facts.t)
            keys = reporting.keys(facts.orders.units)
            keys[left_out] = -1
            bureau_keys = bureaux.keys(facts.orders.units)
            bureau_keys[left_out] = -1
            group_keys = np.where(bureau_keys >= 0, group_of_bureau[np.maximum(bureau_keys, 0)], -1)
            system_keys = np.where(left_out, -1, 0)
            for metric in self.metrics:
                found = tally(metric, facts)
                batch = [
                    found.sums(keys, len(reporting.names)),
                    found.sums(group_keys, len(groups)),
                    found.sums(system_keys, 1),
                ]
                before = sums.get(metric.key)
                sums[metric.key] = (
                    batch if before is None else [a + b for a, b in zip(before, batch, strict=True)]
                )
        by_unit = {key: found[0].values() for key, found in sums.items()}
        by_group = {key: found[1].values() for key, found in sums.items()}
        system = {key: found[2].values()[0] for key, found in sums.items()}

        row_of = {name: i for i, name in enumerate(reporting.names)}
        shown = "office" if level is Level.OFFICE else "unit"
        rows: list[RatesRow] = []
        for key, names in chosen.items():
            for name in names:
                rows.append(self._row(name, shown, key, by_unit, row_of[name]))
            if unit is None:
                rows.append(
                    self._row(registry.group(key).name, "group", key, by_group, position[key])
                )
        if unit is None and group is None:
            rows.append(RatesRow(SYSTEM, "system", "", system))
        return Rates(period, batches.today, as_of, self.metrics, rows, orders)

    def explain(
        self,
        period: Period,
        unit: str,
        metric: str | None = None,
        as_of: datetime | None = None,
        category: Sequence[str] = (),
        level: Level = Level.BUREAU,
        orders: OrderFilter = EVERY_ORDER,
    ) -> list[MissedOrder]:
        """The orders behind `unit`'s numbers: those that cost each metric, and why; of
        `category`'s orders and those `orders` lets through, if given; a bureau's include its
        offices' unless the level is offices (then `unit` names an office)."""
        registry = self.app.units
        name = one_unit(chosen_units(registry, unit, period=period, level=level), unit)
        reporting = registry.reporting(period.start, period.end, level)
        metrics = [self.metric(metric)] if metric else self.metrics
        found: list[MissedOrder] = []
        for facts in self.batches(period, as_of, category).facts:
            selected = reporting.keys(facts.orders.units) == reporting.names.index(name)
            selected &= orders.chosen(facts.t)
            found += [
                MissedOrder(m, facts.orders.numbers[row], name, reason)
                for m in metrics
                for row, reason in explain(m, facts, selected)
            ]
        return sorted(found, key=lambda f: (f.metric.position, f.number))

    def hotspots(
        self,
        period: Period,
        by: HotspotKey = HotspotKey.CATEGORY,
        *,
        unit: str | None = None,
        level: int | None = None,
        top: int = 20,
        as_of: datetime | None = None,
    ) -> Hotspots:
        """热点: per key, the orders received in `period` (of `unit`) and their repeats, the
        `top` keys with the most orders first; for categories, at `level` 1 … 3 (default 1);
        as the store stood at `as_of`, if given."""
        if level is not None and by is not HotspotKey.CATEGORY:
            raise InvalidInput("--level is for --by category")
        level = 1 if level is None else level
        if not 1 <= level <= lengths.CATEGORY_LEVELS:
            raise InvalidInput(f"--level must be 1 to {lengths.CATEGORY_LEVELS}, not {level}")
        if top < 1:
            raise InvalidInput(f"--top must be at least 1, not {top}")
        name = self.app.units.canonical(unit)
        columns = by.columns(level)
        readmodel, _ = self.read_model(as_of)
        groups = readmodel.received_by(period.start, period.end, columns, name)
        total = sum(orders for _, orders, _ in groups)
        given = [g for g in groups if by.given(g[0])]
        missing = [g for g in groups if not by.given(g[0])]

        def spot(key: tuple[str | None, ...], orders: int, repeats: int) -> Hotspot:
            return Hotspot(key, orders, repeats, orders / total)

        ranked = sorted(given, key=lambda g: (-g[1], -g[2], [v or "" for v in g[0]]))
        not_given = (
            spot((None,) * len(columns), sum(g[1] for g in missing), sum(g[2] for g in missing))
            if missing
            else None
        )
        return Hotspots(
            period, by, level, name, columns, total, sum(g[2] for g in groups), len(given),
            [spot(*g) for g in ranked[:top]], not_given, as_of,
        )  # fmt: skip

    def alerts(self, since: datetime | None = None, unit: str | None = None) -> list[FlagRecord]:
        """The scheduler's flags (the alert feed), oldest first, made at or after `since`."""
        name = self.app.units.canonical(unit)
        return self.current().flags(in_shanghai(since) if since else None, name)

    def due(
        self,
        unit: str | None = None,
        today: date | None = None,
        window: int = 1,
        as_of: datetime | None = None,
    ) -> list[DueOrder]:
        """Open orders past a limit, or due within `window` working days after `today` (0: due
        by the end of today), each with the scheduler's latest flag on it; or, given `as_of`,
        each order as it stood then (its events that happened by then), judged on its day."""
        readmodel = self.current()
        moment = in_shanghai(as_of) if as_of is not None else None
        today = moment.date() if moment is not None else today or now().date()
        flags = readmodel.open_flags()
        found: list[DueOrder] = []
        needed = self.lookback(today)
        for orders in readmodel.batches(needed, today):  # a batch at a time: a city's backlog
            found += self._due_then(orders, flags, unit, today, window, moment)
        return sorted(found, key=lambda d: (d.due, d.number, d.limit))

    def _due_then(
        self,
        orders: OrderColumns,
        flags: dict[tuple[str, str], FlagRecord],
        unit: str | None,
        today: date,
        window: int,
        moment: datetime | None,
    ) -> list[DueOrder]:
        """`due` of a batch of orders: as they stand, or as they stood at `moment`."""
        if moment is None:
            return self._due(orders, np.ones(len(orders.numbers), bool), flags, unit, today, window)
        # Facts all dated before the day cannot have changed since `moment`; the orders with
        # one on or after it (or a rejected return, whose day the read model does not keep)
        # are folded again from their events that happened by then.
        t = orders.timelines
        day = today.toordinal()
        changed = (t.received >= day) | (t.contact >= day) | (t.returned >= day)
        changed |= (t.closed >= day) | t.return_rejected
        for later in (
            t.accepted,
            t.declined,
            t.mediation_ended,
            t.case_decided,
            t.acceptance_notified,
            t.mediation_notified,
            t.case_notified,
        ):
            changed |= later >= day
        changed[t.extension_order[t.extension_applied >= day]] = True
        stood = [self.app.order(orders.numbers[row]) for row in np.flatnonzero(changed)]
        then = OrderColumns.of_facts(
            FactColumns.of([fold(o, moment) for o in stood if o.received_at <= moment])
        )
        return self._due(orders, ~changed, flags, unit, today, window) + self._due(
            then, np.ones(len(then.numbers), bool), flags, unit, today, window
        )

    def _due(
        self,
        orders: OrderColumns,
        chosen: Flags,
        flags: dict[tuple[str, str], FlagRecord],
        unit: str | None,
        today: date,
        window: int,
    ) -> list[DueOrder]:
        """The `chosen` rows of `orders` that are open and due (see `due`), judged on `today`,
        each on its own calendar."""
        calendars = self.app.order_calendars(orders.units, orders.districts)
        limits = evaluate(orders.timelines, calendars, self.app.rules, today)
        unit_name = self.app.units.canonical(unit)
        start = calendars.ordinals(np.full(len(orders.numbers), today.toordinal()))
        working = calendars.working_on(today)
        found: list[DueOrder] = []
        # A return is due only if the order is out of jurisdiction, which only the unit knows.
        # A limit of a set that does not govern an order is not required of it.
        checks = [
            (name, status, due)
            for name, (status, due, _, _) in limit_columns(limits, orders.timelines).items()
            if name is not LimitName.RETURN
        ]
        is_open = chosen & (orders.timelines.status == StatusCode.OPEN)
        for name, status, due in checks:
            # Due within `window` working days after today, on the order's calendar (a due
            # date is a working day: on or before today for a window of 0).
            left = calendars.ordinals(due) - start
            near = (status == LimitStatus.PENDING) & (left <= window)
            rows = np.flatnonzero(is_open & ((status == LimitStatus.OVERDUE) | near))
            for row in rows:
                if unit_name and orders.units[row] != unit_name:
                    continue
                number, due_day = orders.numbers[row], date.fromordinal(int(due[row]))
                flag = flags.get((number, name.value))
                found.append(
                    DueOrder(number, orders.units[row], name, LimitStatus(int(status[row])),
                             due_day, int(left[row]),
                             flag if flag and flag.due == due_day else None,
                             bool(working[row]))
                )  # fmt: skip
        return sorted(found, key=lambda d: (d.due, d.number, d.limit))

    def batches(
        self, period: Period, as_of: datetime | None = None, category: Sequence[str] = ()
    ) -> Batches:
        """The facts of `period`, from the read model caught up, or as of a recorded time;
        only of the orders whose category starts with the levels `category`, if given. A
        batch of orders at a time (`ReadModel.batches`): for a report that sums counts, whose
        memory then does not grow with the store's volume."""
        _check_category(category)
        readmodel, today = self.read_model(as_of)

        def read() -> Iterator[Facts]:
            city = self.app.calendar()  # once a read: it is the store's amendments folded
            needed = lookback(city, self.app.rules, period.start)
            for orders in readmodel.batches(needed, period.end, category):
                yield self._facts(orders, period, today, city)

        return Batches(read, today, readmodel)

    def lookback(self, first: date) -> Lookback:
        """What a period starting on `first` reads of the orders before it, by the calendar
        and the limits in effect now (as its due dates are)."""
        return lookback(self.app.calendar(), self.app.rules, first)

    def _facts(
        self, orders: OrderColumns, period: Period, today: date, city: WorkingCalendar
    ) -> Facts:
        """The orders' facts with their limits judged on `today`, each on its calendar (the
        city's `city` with its local closures)."""
        calendars = self.app.order_calendars(orders.units, orders.districts, city)
        limits = evaluate(orders.timelines, calendars, self.app.rules, today)
        return Facts(orders, limits, period.start.toordinal(), period.end.toordinal())

    def nothing_recorded_by(self, as_of: datetime) -> datetime | None:
        """If no event had been recorded by `as_of`: when the first was (or `as_of` itself
        for an empty store), so a report as of then can say why it counts nothing."""
        first = self.projection.first_recorded()
        if first is None:
            return as_of
        return first if first > as_of else None

    def read_model(self, as_of: datetime | None) -> tuple[ReadModel, date]:
        """The read model caught up and today; or, as of a recorded time, one replayed in
        memory up to it and that day; or, judged on a day, the events that happened by then
        (replayed in memory once) and that day."""
        if self.judged_on is not None:
            if as_of is not None:
                raise InvalidInput(
                    "give either --as-of (the store as recorded by then) or --judged-on (every "
                    "event that happened by that day), not both"
                )
            if self._judged is None:  # once: a trend or a comparison reads it again
                self._judged = ReadModel("sqlite://")
                self.projection.replay_happened_by(self.judged_on, self._judged)
            return self._judged, self.judged_on
        if as_of is None:
            return self.current(), now().date()
        moment = in_shanghai(as_of)
        readmodel = ReadModel("sqlite://")
        self.projection.replay_until(moment, readmodel)
        return readmodel, moment.date()

    @staticmethod
    def _row(
        name: str, level: str, group: str, values: dict[str, list[MetricValue]], index: int
    ) -> RatesRow:
        return RatesRow(name, level, group, {key: found[index] for key, found in values.items()})
