"""The application service: what operators and managers can do, over the event store.

Entry points (the CLI, later the importer and the scheduler) call only this;
it loads aggregates, asks them to act, and saves their new events in one
transaction, so a refused event writes nothing.
"""

from __future__ import annotations

import getpass
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper, PersistenceError
from eventsourcing.utils import Environment, EnvType

from hotline.adapters.eventstore import (
    ENCRYPTED,
    PydanticMapper,
    StoreError,
    opening,
    store_environment,
    store_failure,
    store_name,
)
from hotline.adapters.official_calendar import official_schedules
from hotline.adapters.readmodel import ReadModel
from hotline.adapters.rubric_files import load_time_limit_rules, rubrics_dir
from hotline.adapters.unit_file import load_unit_registry
from hotline.domain.aggregate import Aggregate, in_shanghai, now
from hotline.domain.calendar import DayKind, WorkingCalendar, YearSchedule
from hotline.domain.calendar_amendments import CALENDAR_ID, CalendarAmendments
from hotline.domain.errors import (
    CalendarError,
    FindingError,
    HotlineError,
    InvalidInput,
    OrderAlreadyReceived,
    OrderNotFound,
    one_line,
)
from hotline.domain.finding import Finding
from hotline.domain.limits import LimitCheck, LimitStatus, TimeLimitRules, check_limits
from hotline.domain.order import ORDER_COMMANDS, Order, order_id
from hotline.domain.rubric import Rubric, finding_items
from hotline.domain.units import UnitRegistry


class ConcurrentChange(HotlineError):
    """Someone else changed the same aggregate between our read and our write."""


@dataclass(frozen=True)
class OrderView:
    """An order with where it stands against its limits on `today`."""

    order: Order
    checks: list[LimitCheck]
    today: date
    unpublished_years: tuple[int, ...]
    """Years the deadlines run into that have no published holiday schedule."""

    @property
    def overdue(self) -> bool:
        return any(check.status is LimitStatus.OVERDUE for check in self.checks)


@cache
def _official_calendar_years() -> tuple[YearSchedule, ...]:
    return tuple(official_schedules())


class HotlineApplication(Application[UUID]):
    """Work orders and the working-day calendar, kept as events."""

    name = "hotline"

    def __init__(
        self, db: str | None = None, rubrics: Path | None = None, actor: str | None = None
    ) -> None:
        """`db`: the store (a SQLite path or a `postgresql://` URL); None means `$HOTLINE_DB`
        or the default. `actor`: who records what this application saves (录入人); None means
        the operating-system user."""
        self.actor = actor_name(actor) if actor is not None else default_actor()
        self.rubrics = rubrics or rubrics_dir()
        env = store_environment(db)
        try:
            with opening(env):
                super().__init__(env=env)
        except (PersistenceError, sqlite3.Error) as error:
            failure = store_failure(error)
            raise StoreError(
                f"cannot open the store {store_name(env)}: "
                + (str(failure) if failure else f"{one_line(error)}; check --db or HOTLINE_DB")
            ) from None
        if not env.get("CIPHER_KEY"):
            self._refuse_if_encrypted()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The store's configuration is `store_environment`'s alone: eventsourcing would let
        variables such as HOTLINE_CIPHER_KEY in the process's environment override it."""
        return Environment(name, dict(env or {}))

    def _refuse_if_encrypted(self) -> None:
        """With no key configured, refuse a store whose newest event is encrypted: what this
        process wrote would be stored in plaintext beside it."""
        head = self.recorder.max_notification_id()
        if not head:
            return
        newest = self.recorder.select_notifications(start=head, limit=1)
        if newest and newest[0].state.startswith(ENCRYPTED):
            raise StoreError(
                "the store holds encrypted events; set HOTLINE_KEY or HOTLINE_KEY_FILE to the "
                "store's key"
            )

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=PydanticMapper
        )

    @cached_property
    def readmodel(self) -> ReadModel:
        """The read-model tables, in the same database as the events."""
        return ReadModel(self.env["READ_MODEL_URL"])

    @cached_property
    def units(self) -> UnitRegistry:
        """The unit registry (承办单位), `rubrics/units.toml`."""
        return load_unit_registry(self.rubrics / "units.toml")

    @cached_property
    def rules(self) -> TimeLimitRules:
        """The 1·5·13 rule parameters, `rubrics/time-limits.toml`."""
        return load_time_limit_rules(self.rubrics / "time-limits.toml")

    # Orders

    def receive(
        self, number: str, *, unit: str, at: datetime | None = None, **fields: Any
    ) -> Order:
        """Log a new order received by `unit`; a known number is refused, also when another
        writer receives it at the same moment."""
        unit_name = self.units.get(unit).name
        when = _when(at)

        def receive_new() -> Order:
            if self._exists(number):
                raise OrderAlreadyReceived(
                    f"order {number} was already received; an order number is received once"
                )
            return Order.receive(number, at=when, unit=unit_name, **fields)

        return self.save_order(receive_new(), retry=receive_new)

    def record(self, number: str, event: str, at: datetime | None = None, **fields: Any) -> Order:
        """Log `event` (a DOMAIN §3 name such as `first_contact`) on order `number`."""
        when = _when(at)

        def act() -> Order:
            order = self.order(number)
            ORDER_COMMANDS[event](order, at=when, **fields)
            return order

        return self.save_order(act(), retry=act)

    def save_order(self, order: Order, retry: Callable[[], Order] | None = None) -> Order:
        """Save what was recorded on `order`; the order saved.

        If someone else saved the order since it was loaded, `retry` (the same command on a
        fresh load, so the order's rules are checked again) is tried after a short random
        pause, up to 5 attempts in all; then, or with no `retry`, ConcurrentChange.
        """
        attempts = 5
        conflict = (
            f"order {order.number} was changed by someone else; run the command again"
            if retry is None
            else f"order {order.number} was changed by someone else at each of {attempts} "
            "attempts; run the command again"
        )
        attempt = 1
        while True:
            try:
                self._save(order, conflict)
            except ConcurrentChange:
                if retry is None or attempt == attempts:
                    raise
            else:
                return order
            logging.getLogger(__name__).debug("order %s: conflict, retrying", order.number)
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
            attempt += 1
            order = retry()

    def correct(self, number: str, event: str, field: str, value: Any, reason: str) -> Order:
        """Correct `field` of order `number`'s `event` (a name such as `closed`, or its
        number `#3`) to `value`, for `reason`: a `corrected` event; the original stays."""

        def act() -> Order:
            order = self.order(number)
            target = order.event_version(event)
            new = self.units.get(str(value)).name if field == "unit" else value
            order.correct(now(), target, field, new, reason)
            return order

        return self.save_order(act(), retry=act)

    def reveal(self, number: str, reason: str) -> Order:
        """The order, with a record that its citizen's personal data is shown in full to
        this application's actor, for `reason`."""

        def act() -> Order:
            order = self.order(number)
            order.reveal(now(), reason)
            return order

        return self.save_order(act(), retry=act)

    def order(self, number: str) -> Order:
        """The order with this number, as it stands now."""
        try:
            order: Order = self.repository.get(order_id(number))
        except AggregateNotFoundError:
            raise OrderNotFound(
                f"no order {number} has been received; log it with `hotline order receive`"
            ) from None
        return order

    def view(self, number: str, today: date | None = None) -> OrderView:
        """The order and its 1·5·13 checks as of `today` (default: today in Shanghai)."""
        order = self.order(number)
        calendar = self.calendar()
        today = today or now().date()
        checks = check_limits(order, calendar, self.rules, today)
        latest = max([order.received_at.date(), today, *(c.due for c in checks if c.due)])
        unpublished = calendar.unpublished_years(order.received_at.date(), latest)
        return OrderView(order, checks, today, unpublished)

    # Findings (an inspector's judgements, DOMAIN §7)

    def record_finding(
        self,
        rubric: Rubric,
        item: str,
        day: date,
        note: str,
        *,
        unit: str | None = None,
        order: str | None = None,
        count: int = 1,
    ) -> UUID:
        """Enter a finding against `rubric`'s item `item` for `unit`, or for the unit that
        received `order`; `day` (not in the future) decides the period it counts in."""
        items = finding_items(rubric)
        if item not in items:
            if not items:
                raise InvalidInput(f"rubric {rubric.name} has no items that take findings")
            raise InvalidInput(
                f"rubric {rubric.name} has no finding item {item!r}; use one of: {', '.join(items)}"
            )
        number: str | None = None
        if order is not None:
            concerned = self.order(order)
            number = concerned.number
            if unit is not None and self.units.get(unit).name != concerned.unit:
                raise InvalidInput(
                    f"order {number} was received by {concerned.unit}, not "
                    f"{self.units.get(unit).name}; drop --unit or give the right order"
                )
            unit_name = concerned.unit
        elif unit is not None:
            unit_name = self.units.get(unit).name
        else:
            raise InvalidInput("give the unit (--unit) or the order (--order) the finding concerns")
        today = now().date()
        if day > today:
            raise InvalidInput(
                f"day {day} is in the future (today is {today} in Shanghai); give the day "
                "the fact happened or was found"
            )
        finding = Finding.record(
            now(),
            rubric=rubric.name,
            item=item,
            unit=unit_name,
            day=day,
            note=note,
            count=count,
            order=number,
        )
        self._save(finding, "the finding was saved by someone else at the same time")
        return finding.id

    def finding(self, finding_id: UUID) -> Finding:
        """The finding with this id, as it stands now."""
        found: object
        try:
            found = self.repository.get(finding_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Finding):
            raise FindingError(f"no finding {finding_id}; see `hotline finding list` for the ids")
        return found

    def withdraw_finding(self, finding_id: UUID, reason: str) -> None:
        """Withdraw a finding entered by mistake: it counts no more."""
        finding = self.finding(finding_id)
        finding.withdraw(now(), reason)
        self._save(finding, f"finding {finding_id} was changed by someone else; run it again")

    # The working-day calendar

    def calendar(self) -> WorkingCalendar:
        """The official calendar with every user amendment, as it stands now."""
        amendments = self.amendments()
        return WorkingCalendar(
            [*_official_calendar_years(), *amendments.years.values()],
            amendments.closures.values(),
        )

    def amendments(self) -> CalendarAmendments:
        """The users' additions to the official calendar (empty if none yet)."""
        try:
            amendments: CalendarAmendments = self.repository.get(CALENDAR_ID)
        except AggregateNotFoundError:
            return CalendarAmendments(CALENDAR_ID)
        return amendments

    def publish_year(self, schedule: YearSchedule) -> None:
        """Add (or replace) a year's official schedule, e.g. a newly published year."""
        self._amend(lambda amendments, at: amendments.publish_year(at, schedule))

    def add_closure(self, day: date, reason: str) -> None:
        """Close a working day locally (e.g. 台风停工)."""
        status = self.calendar().status(day)
        if not status.is_working and status.kind is not DayKind.CLOSURE:
            why = f" ({status.name})" if status.name else ""
            raise CalendarError(
                f"{day} is already off: {status.kind.value}{why}; "
                "a closure only changes a working day"
            )
        self._amend(lambda amendments, at: amendments.add_closure(at, day, reason))

    def withdraw_closure(self, day: date, reason: str) -> None:
        """Withdraw a closure entered by mistake."""
        self._amend(lambda amendments, at: amendments.withdraw_closure(at, day, reason))

    def save_many(self, aggregates: list[Order]) -> int:
        """Save the new events of many orders in one transaction; the number saved.

        For bulk loads: it goes straight to the recorder (`Application.save` checks each
        object against runtime protocols, which costs more than storing it).
        """
        for aggregate in aggregates:
            aggregate.attribute_to(self.actor)
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        if events:
            self.recorder.insert_events(list(map(self.mapper.to_stored_event, events)))
        return len(events)

    # Helpers

    def _amend(self, change: Callable[[CalendarAmendments, datetime], None]) -> None:
        at = now()
        amendments = self.amendments()
        if amendments.version == 0:
            amendments = CalendarAmendments.start(at)
        change(amendments, at)
        self._save(amendments, "the calendar was amended by someone else; run the command again")

    def _exists(self, number: str) -> bool:
        return bool(self.recorder.select_events(order_id(number), limit=1))

    def _save(self, aggregate: Aggregate, conflict: str) -> None:
        """Save `aggregate`'s new events in one transaction: ConcurrentChange(`conflict`) if
        someone else saved it since it was loaded, StoreError if the store cannot write."""
        aggregate.attribute_to(self.actor)
        try:
            self.save(aggregate)
        except IntegrityError:
            raise ConcurrentChange(conflict) from None
        except PersistenceError as error:
            raise store_failure(error) or StoreError(
                f"could not write to the store ({one_line(error)}); nothing was written"
            ) from None


def actor_name(name: str) -> str:
    """`name` as an actor (录入人): 1-100 printable characters."""
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise InvalidInput(
            f"actor {name!r} is not a name: give 1-100 printable characters with --actor"
        )
    return name


def default_actor() -> str:
    """The operating-system user running hotline (`uid N` if it has no name)."""
    try:
        return actor_name(getpass.getuser())
    except (OSError, KeyError, InvalidInput):
        return f"uid {os.getuid()}"


def _when(at: datetime | None) -> datetime:
    return now() if at is None else in_shanghai(at)
