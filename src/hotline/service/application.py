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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper, PersistenceError, StoredEvent
from eventsourcing.utils import Environment, EnvType

from hotline.adapters.event_batches import select_many
from hotline.adapters.eventstore import (
    ENCRYPTED,
    KEY_SOURCE,
    NO_KEY,
    PydanticMapper,
    StoreError,
    fingerprint,
    opening,
    store_environment,
    store_failure,
    store_name,
)
from hotline.adapters.official_calendar import official_schedules
from hotline.adapters.rubric_files import load_time_limit_rules
from hotline.adapters.settings import Settings, read_settings
from hotline.adapters.unit_file import load_unit_registry
from hotline.domain.aggregate import Aggregate, DomainEvent, in_shanghai, now
from hotline.domain.calendar import (
    Closure,
    DayKind,
    OrderCalendars,
    Place,
    WorkingCalendar,
    YearSchedule,
)
from hotline.domain.calendar_amendments import CALENDAR_ID, CalendarAmendments
from hotline.domain.errors import (
    CalendarError,
    FindingError,
    HotlineError,
    InvalidInput,
    OrderAlreadyReceived,
    OrderNotFound,
    OrderRuleViolation,
    one_line,
)
from hotline.domain.facts import fold
from hotline.domain.finding import Finding
from hotline.domain.lengths import PERSON_NAME
from hotline.domain.limits import (
    LimitCheck,
    LimitStatus,
    TimeLimitRules,
    check_limits,
    short_extension,
)
from hotline.domain.order import ORDER_COMMANDS, Order, order_id
from hotline.domain.store_key import STORE_KEY_ID, StoreKey, short
from hotline.domain.unit_additions import UNITS_ID, UnitAdditions
from hotline.domain.units import AddedUnit, Rename, Unit, UnitRegistry

if TYPE_CHECKING:
    import psycopg

    from hotline.adapters.readmodel import ReadModel
    from hotline.domain.rubric import Rubric


class ConcurrentChange(HotlineError):
    """Someone else changed the same aggregate between our read and our write."""


class NotAllowed(HotlineError):
    """A database role may not record as the person named."""


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
    creates_schema: ClassVar[bool] = False
    """Whether it creates the PostgreSQL store's tables (`hotline db init`'s owner does); other
    applications run no DDL there and refuse a store without them."""

    def __init__(
        self,
        db: str | None = None,
        rubrics: Path | None = None,
        actor: str | None = None,
        *,
        settings: Settings | None = None,
        rotating: bool = False,
    ) -> None:
        """`settings`: as the command read them (None: read now); `db`, `rubrics` and `actor`,
        where given, in place of theirs. `db`: the store (a SQLite path or a `postgresql://`
        URL). `actor`: who records what this application saves (录入人); None means the
        operating-system user on SQLite, the database role on PostgreSQL, where a role may
        record only as a person the owner allowed it to (`hotline db allow`). The key
        configured must be the store's (`check_key`); `rotating` (for `key rotate` only) also
        opens a store whose key rotation is under way."""
        self.rotating = rotating
        self.settings = (settings or read_settings()).given(db=db, rubrics=rubrics, actor=actor)
        self.rubrics = self.settings.rubrics
        env = store_environment(self.settings)
        try:
            with opening(env, schema_lock=self.creates_schema) as connection:
                super().__init__(env=env)
                self.role, self.actor = self._identity(connection, self.settings.actor)
        except (PersistenceError, sqlite3.Error) as error:
            failure = store_failure(error)
            raise StoreError(
                f"cannot open the store {store_name(env)}: "
                + (str(failure) if failure else f"{one_line(error)}; check --db or HOTLINE_DB")
            ) from None
        self.check_key()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The store's configuration is `store_environment`'s alone: eventsourcing would let
        variables such as HOTLINE_CIPHER_KEY in the process's environment override it."""
        creating = {"CREATE_TABLE": "yes"} if self.creates_schema else {}
        return Environment(name, dict(env or {}) | creating)

    def _identity(
        self, connection: psycopg.Connection[Any] | None, actor: str | None
    ) -> tuple[str | None, str]:
        """(database role, actor) of what this application saves. On SQLite: no role, and
        `actor` or the operating-system user. On PostgreSQL: the session's role, and `actor`
        if the role may record as that person, else the role itself; the store's tables are
        checked first."""
        if connection is None:
            return None, actor_name(actor) if actor is not None else default_actor()
        from hotline.adapters.postgres import check_schema, may_record_as, refusing, session_role

        with refusing(f"cannot open the store {store_name(self.env)}"):
            role = session_role(connection)
            if self.creates_schema:
                return role, role
            check_schema(connection, self.recorder.events_table_name)  # type: ignore[attr-defined]
            if actor is None or actor_name(actor) == role:
                return role, role
            name = actor_name(actor)
            allowed = may_record_as(connection, name)
        if not allowed:
            raise NotAllowed(
                f"database role {role} may not record as {name!r}; the database owner allows "
                f"it with `hotline db allow {role} --actor {name}`"
            )
        return role, name

    @property
    def key_fingerprint(self) -> str | None:
        """The fingerprint of the key this application encrypts with (None: no key)."""
        key = self.env.get("CIPHER_KEY")
        return fingerprint(key) if key else None

    def store_key(self) -> StoreKey | None:
        """The store's key record (None: no encrypted event was written since hotline kept
        one)."""
        try:
            key: StoreKey = self.repository.get(STORE_KEY_ID)
        except AggregateNotFoundError:
            return None
        return key

    def check_key(self) -> StoreKey | None:
        """Refuse a key that is not the store's, no key for an encrypted store, and (unless
        `rotating`) a store whose key rotation is under way; the store's key record.

        One indexed read: the store key's record. A store without one (none of its events
        was encrypted since hotline kept it) is checked by its newest event."""
        record = self.store_key()
        if record is None:
            self._check_newest_event()
            return None
        mine = self.key_fingerprint
        if record.rotating_to is not None:
            if not self.rotating:
                raise StoreError(
                    f"a rotation of the store's key from {short(record.fingerprint)} to "
                    f"{short(record.rotating_to)} was started and has not finished; run "
                    "`hotline key rotate --new-key-file FILE` again with the same keys to "
                    "finish it"
                )
            if mine in (record.fingerprint, record.rotating_to):
                return record
        if mine == record.fingerprint:
            return record
        if mine is None:
            raise StoreError(NO_KEY)
        raise StoreError(
            f"{self.env[KEY_SOURCE]} is not this store's key (fingerprint {short(mine)}, "
            f"the store's is {short(record.fingerprint)}); nothing was read or written"
        )

    def _check_newest_event(self) -> None:
        """For a store without a key record: refuse no key if its newest event is encrypted
        (what this process wrote would be stored in plaintext beside it), and a key that
        cannot decrypt it."""
        head = self.recorder.max_notification_id()
        if not head:
            return
        newest = self.recorder.select_notifications(start=head, limit=1)
        if newest and newest[0].state.startswith(ENCRYPTED):
            if not self.env.get("CIPHER_KEY"):
                raise StoreError(NO_KEY)
            self.store_mapper.plaintext(newest[0].state)

    def _first_key_record(self) -> list[StoreKey]:
        """Before a write: the key checked again (a rotation may have started, or another
        process recorded a key, since the store was opened), and with a key and no record
        yet, the record of its fingerprint, to save in the same transaction."""
        if self.check_key() is not None or self.key_fingerprint is None:
            return []
        self.check_oldest_encrypted()
        return [StoreKey.record(self.key_fingerprint, now())]

    def check_oldest_encrypted(self) -> None:
        """For a store without a key record (written before hotline kept one): refuse no key,
        or a key that cannot decrypt it, if it holds an encrypted event. It reads up to the
        first encrypted event: once per store, before its key is recorded."""
        mapper = self.store_mapper
        position = 0
        while batch := self.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        ):
            encrypted = [n for n in batch if n.state.startswith(ENCRYPTED)]
            if encrypted:
                mapper.plaintext(encrypted[0].state)
                return
            position = batch[-1].id

    def save_store_key(self, record: StoreKey) -> None:
        """Save what was recorded on the store's key record (`key rotate`)."""
        self._save(record, "the store's key was changed by someone else; run the command again")

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = cast(
            PydanticMapper,
            self.factory.mapper(
                transcoder=self.construct_transcoder(), mapper_class=PydanticMapper
            ),
        )
        mapper.key_source = self.env.get(KEY_SOURCE) or mapper.key_source
        return mapper

    @property
    def store_mapper(self) -> PydanticMapper:
        """The store's mapper, as hotline's own type (it seals, encrypts and decrypts)."""
        return cast(PydanticMapper, self.mapper)

    @cached_property
    def readmodel(self) -> ReadModel:
        """The read-model tables, in the same database as the events."""
        from hotline.adapters.readmodel import ReadModel  # SQLAlchemy: not for `order show`

        return ReadModel(self.env["READ_MODEL_URL"], self.mapper.cipher)

    @cached_property
    def units(self) -> UnitRegistry:
        """The unit registry (承办单位): `rubrics/units.toml`, with the units users added in
        the store layered over it (`hotline units add`)."""
        return load_unit_registry(self.rubrics / "units.toml", self.unit_additions().changes)

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
        when = _when(at)
        unit_name = self.units.at(unit, in_shanghai(when).date()).name

        def receive_new() -> Order:
            if self.exists(number):
                raise OrderAlreadyReceived(
                    f"order {number} was already received; an order number is received once"
                )
            return Order.receive(number, at=when, unit=unit_name, **fields)

        return self.save_order(receive_new(), retry=receive_new)

    def record(self, number: str, event: str, at: datetime | None = None, **fields: Any) -> Order:
        """Log `event` (a domain.md §3 name such as `first_contact`) on order `number`."""
        when = _when(at)

        def act() -> Order:
            order = self.order(number)
            ORDER_COMMANDS[event](order, at=when, **fields)
            if event == "extended" and (
                due := short_extension(order, self.calendar_of(order), self.rules)
            ):
                raise OrderRuleViolation(
                    f"order {number}: the promised date {fields['until']} does not extend the "
                    f"close limit (due {due}); an extension extends: promise a later date"
                )
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

    def orders(self, numbers: Iterable[str]) -> dict[str, Order]:
        """The orders with these numbers, as they stand now, read in one query (the
        scheduler's batches); a number never received is left out."""
        found = select_many(self.recorder, map(order_id, numbers))
        orders: dict[str, Order] = {}
        for stored in found.values():
            order: Aggregate | None = None
            for event in stored:
                order = cast(DomainEvent, self.mapper.to_domain_event(event)).mutate(order)
            if isinstance(order, Order):
                orders[order.number] = order
        return orders

    def view(self, number: str, today: date | None = None) -> OrderView:
        """The order and its deadline set's checks as of `today` (default: today in Shanghai)."""
        order = self.order(number)
        calendar = self.calendar_of(order)
        today = today or now().date()
        checks = check_limits(order, calendar, self.rules, today)
        latest = max([order.received_at.date(), today, *(c.due for c in checks if c.due)])
        unpublished = calendar.unpublished_years(order.received_at.date(), latest)
        return OrderView(order, checks, today, unpublished)

    # Findings (an inspector's judgements, domain.md §7)

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
        from hotline.domain.rubric import finding_items  # not loaded by an order's commands

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

    def calendar_of(self, order: Order, city: WorkingCalendar | None = None) -> WorkingCalendar:
        """The calendar `order`'s limits count on: the city's (`city`, default the current),
        with the closures scoped to its unit or its district off too."""
        row = fold(order).row
        return (city or self.calendar()).at(
            Place(self.units.covering(row["unit"]), row["district"])
        )

    def order_calendars(
        self, units: list[str], districts: list[str | None], city: WorkingCalendar | None = None
    ) -> OrderCalendars:
        """The calendars of many orders (by their units and districts), for `evaluate`."""
        return OrderCalendars.of(city or self.calendar(), units, districts, self.units.covering)

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

    def add_closure(
        self,
        day: date,
        reason: str,
        units: Sequence[str] = (),
        districts: Sequence[str] = (),
    ) -> Closure:
        """Close a working day locally (e.g. 台风停工): everywhere, or only for the orders of
        `units` (any of a unit's names or aliases; a bureau's closes its offices) or of
        `districts` (区)."""
        closure = Closure(
            day, reason, frozenset(self.units.get(u).name for u in units), frozenset(districts)
        )
        status = self.calendar().status(day)
        if not status.is_working and status.kind is not DayKind.CLOSURE:
            why = f" ({status.name})" if status.name else ""
            raise CalendarError(
                f"{day} is already off: {status.kind.value}{why}; "
                "a closure only changes a working day"
            )
        self._amend(lambda amendments, at: amendments.add_closure(at, closure))
        return closure

    def withdraw_closure(self, day: date, reason: str) -> None:
        """Withdraw a closure entered by mistake."""
        self._amend(lambda amendments, at: amendments.withdraw_closure(at, day, reason))

    # The unit registry: what users add to the shipped file

    def unit_additions(self) -> UnitAdditions:
        """The units users added and renamed (empty if none yet)."""
        try:
            additions: UnitAdditions = self.repository.get(UNITS_ID)
        except AggregateNotFoundError:
            return UnitAdditions(UNITS_ID)
        return additions

    def add_unit(self, unit: AddedUnit) -> Unit:
        """Add a unit (an office if `unit.under` names its bureau, by any of its names) for
        everyone on this store; refused if it does not fit the registry as it stands."""
        if unit.under is not None:
            bureau = self.units.get(unit.under)
            if bureau.group != unit.group:
                raise InvalidInput(
                    f"{bureau.name} is in group '{bureau.group}', not '{unit.group}'; an office "
                    "is in its bureau's group"
                )
            unit = replace(unit, under=self.units.history(bureau.name)[0])
        self._change_units(lambda additions, at: additions.add(at, unit))
        return self.units.get(unit.name)

    def rename_unit(self, old: str, new: str, on: date) -> Unit:
        """Call unit `old` (a name or an alias) `new` from `on`, for everyone on this store."""
        name = self.units.get(old).name
        self._change_units(lambda additions, at: additions.rename(at, Rename(name, new, on)))
        return self.units.get(new)

    def _change_units(self, change: Callable[[UnitAdditions, datetime], None]) -> None:
        at = now()
        additions = self.unit_additions()
        if additions.version == 0:
            additions = UnitAdditions.start(at)
        change(additions, at)
        load_unit_registry(self.rubrics / "units.toml", additions.changes)  # refused unless it fits
        self._save(additions, "the units were changed by someone else; run the command again")
        self.__dict__.pop("units", None)  # the cached registry, read again with the change

    def save_many(self, aggregates: list[Order]) -> int:
        """Save the new events of many orders in one transaction; the number saved.

        For bulk loads: it goes straight to the recorder (`Application.save` checks each
        object against runtime protocols, which costs more than storing it).
        """
        stored = self.stored_events(aggregates)
        self.insert_stored(stored)
        return len(stored)

    def stored_events(self, aggregates: list[Order]) -> list[StoredEvent]:
        """The new events of `aggregates`, signed and as the store keeps them (encrypted with
        a key): what `insert_stored` saves, here or in another process (a parallel import's
        workers make them, its writer saves them)."""
        self._sign(*aggregates)
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        return list(map(self.mapper.to_stored_event, events))

    def insert_stored(self, stored: list[StoredEvent]) -> None:
        """Insert `stored` in one transaction (with the store key's record, if it is the
        first write under a key); IntegrityError if another writer saved any of their
        versions first."""
        if not stored:
            return
        records = self._first_key_record()
        self._sign(*records)
        keys = [self.mapper.to_stored_event(e) for r in records for e in r.collect_events()]
        self.recorder.insert_events([*keys, *stored])

    # Helpers

    def _amend(self, change: Callable[[CalendarAmendments, datetime], None]) -> None:
        at = now()
        amendments = self.amendments()
        if amendments.version == 0:
            amendments = CalendarAmendments.start(at)
        change(amendments, at)
        self._save(amendments, "the calendar was amended by someone else; run the command again")

    def _sign(self, *aggregates: Aggregate) -> None:
        """Sign each aggregate's pending events as this application saves them: its actor and
        role, and each event's chain as the store's mapper will store it."""
        for aggregate in aggregates:
            aggregate.attribute_to(self.actor, self.store_mapper.seal, self.role)

    def exists(self, number: str) -> bool:
        """Whether an order with this number was received in this store."""
        return bool(self.recorder.select_events(order_id(number), limit=1))

    def save_orders(self, orders: list[Order]) -> None:
        """Save what was recorded on `orders` in one transaction (the scheduler's batches):
        ConcurrentChange, and none saved, if someone else saved any of them since it was
        loaded."""
        with self._writing("orders were changed by someone else; run the command again"):
            self.save_many(orders)

    def _save(self, aggregate: Aggregate, conflict: str) -> None:
        """Save `aggregate`'s new events in one transaction: ConcurrentChange(`conflict`) if
        someone else saved it since it was loaded, StoreError if the store cannot write."""
        others = [] if isinstance(aggregate, StoreKey) else self._first_key_record()
        self._sign(aggregate, *others)
        with self._writing(conflict):
            self.save(aggregate, *others)

    @contextmanager
    def _writing(self, conflict: str) -> Iterator[None]:
        """Around a write: ConcurrentChange(`conflict`) if the store refuses it as another
        writer's version, StoreError if it cannot write."""
        try:
            yield
        except IntegrityError:
            raise ConcurrentChange(conflict) from None
        except PersistenceError as error:
            raise store_failure(error) or StoreError(
                f"could not write to the store ({one_line(error)}); nothing was written"
            ) from None


def actor_name(name: str) -> str:
    """`name` as an actor (录入人): 1-`PERSON_NAME` printable characters."""
    name = name.strip()
    if not 1 <= len(name) <= PERSON_NAME or not name.isprintable():
        raise InvalidInput(
            f"actor {name!r} is not a name: give 1-{PERSON_NAME} printable characters with --actor"
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
