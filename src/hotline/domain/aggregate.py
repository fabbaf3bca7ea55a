"""Event-sourced aggregates whose events are pydantic models.

`eventsourcing` persists anything that follows its protocols (an event with
`originator_id`, `originator_version` and `mutate`; an aggregate with `id`,
`version` and `collect_events`), so the domain keeps its own small base here
and validates every event payload with pydantic when it is made and when it is
read back from the store. When it is made, no text in it may hold a control character
(free text may hold tabs and line breaks, `FreeText`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Self, get_args, get_origin
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hotline.domain import lengths
from hotline.domain.calendar import FIRST_DAY, LAST_DAY
from hotline.domain.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Every time in the product is shown in, and every naive time is read as, Asia/Shanghai."""

BOOKKEEPING = {"originator_id", "originator_version", "timestamp", "at", "actor", "role", "chain"}
"""An event's fields that say which aggregate, when, by whom and after what, not what
happened."""
FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far a happened time may lie after the recorded time (clock skew)."""


CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
"""The control characters (C0, DEL and C1) that no text of an event may hold, but for the
tab and line break that free text allows: a NUL cannot be stored in PostgreSQL's text, and
the others would reach a terminal or a spreadsheet raw."""
STORED = {"stored": True}
"""The validation context of an event read back from the store: its texts were checked when it
was made (or were stored before hotline checked them, and must still be readable)."""


@dataclass(frozen=True)
class FreeText:
    """Marks (as `Annotated` metadata) a text field that may hold the control characters
    `allowed`; every other text of an event holds none."""

    allowed: str


LINES = FreeText("\t\n")
"""Free text (a summary, a note, a reason): tabs and line breaks allowed."""
CHECKED_BY_TARGET = FreeText(CONTROLS)
"""A correction's values: the corrected event's own field checks them."""


def _refused(annotation: Any) -> re.Pattern[str] | None:
    """The control characters a field of this annotation refuses (all but those its
    `FreeText` marker allows), or None if it holds no text or allows every one."""
    if not _may_hold_text(annotation):
        return None
    allowed = ""
    for arg in (annotation, *get_args(annotation)):
        for marker in getattr(arg, "__metadata__", ()):
            if isinstance(marker, FreeText):
                allowed = marker.allowed
    refused = "".join(c for c in CONTROLS if c not in allowed)
    return re.compile(f"[{re.escape(refused)}]") if refused else None


def _may_hold_text(annotation: Any) -> bool:
    """Whether a value of this annotation may be or hold free-form text (a `str`, a mapping,
    a sequence, JSON); not a time, a number or an enum member."""
    if annotation is str or annotation is Any or annotation is JsonValue:
        return True
    if get_origin(annotation) in (dict, list, tuple):
        return True
    return any(_may_hold_text(arg) for arg in get_args(annotation))


def _texts(value: Any) -> Iterator[str]:
    """Every text in `value`, nested in lists and mappings (keys too) included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def now() -> datetime:
    """The current time in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def in_shanghai(moment: datetime) -> datetime:
    """`moment` in Asia/Shanghai; a naive time is taken to be Asia/Shanghai already."""
    if moment.tzinfo is SHANGHAI:
        return moment  # the common case: a time already made here (a third of an import's)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def describe(error: ValidationError) -> str:
    """One line naming each invalid field and what is wrong with it."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)  # a model's own check
    return "; ".join(parts)


def recorded_by(actor: str | None, role: str | None) -> str | None:
    """Who recorded an event, as shown: the actor, or `role (actor)` when a database role
    recorded it as a person it may speak for."""
    if role is None or actor in (None, role):
        return actor or role
    return f"{role} ({actor})"


class DomainEvent(BaseModel):
    """Something that happened: `at` is when it happened (发生时间), `timestamp`
    when the store recorded it (录入时间), `actor` who recorded it (录入人). Both
    times are kept: late entry is itself a compliance fact, and "as of" queries
    use the recorded time. `actor` is None only on events recorded before hotline
    kept it. `role`: on PostgreSQL, the database role that stored it (`actor` is then that
    role, or a person the role may record as); None on SQLite. `chain` binds the event to the
    one before it (see `link`); None only on events recorded before hotline kept it."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True
    )
    __slots__ = ("_link", "_state")
    """Not fields: the state as it is about to be stored (`Seal`), and the event's `link`
    as it was read from the store."""

    name: ClassVar[str]
    """The event's name in domain.md §3 (`received`, `closed` ...)."""

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    at: AwareDatetime
    actor: Annotated[str, Field(min_length=1, max_length=lengths.PERSON_NAME)] | None = None
    chain: Annotated[str, Field(pattern="^[0-9a-f]{64}$")] | None = None
    role: Annotated[str, Field(min_length=1, max_length=lengths.PERSON_NAME)] | None = None

    _refused: ClassVar[tuple[tuple[str, re.Pattern[str]], ...]] = ()
    """Each field that may hold text, with the control characters it refuses."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        found = {
            name: _refused(info.rebuild_annotation()) for name, info in cls.model_fields.items()
        }
        cls._refused = tuple((name, refused) for name, refused in found.items() if refused)

    @model_validator(mode="after")
    def _no_control_characters(self, info: ValidationInfo) -> Self:
        if info.context is STORED:
            return self
        fields = self.__dict__
        for name, refused in self._refused:
            value = fields[name]
            if type(value) is str:  # the common case, first (enum members are not checked)
                found = refused.search(value)
            elif isinstance(value, dict | list | tuple):
                found = next(filter(None, map(refused.search, _texts(value))), None)
            else:
                continue
            if found:
                raise ValueError(
                    f"{name}: contains a control character (U+{ord(found[0]):04X}); remove it"
                )
        return self

    @field_validator("at", "timestamp", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> Any:
        if isinstance(value, str):  # as JSON has it (a correction's value): read it here
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value  # pydantic says what is wrong with it
        return in_shanghai(value) if isinstance(value, datetime) else value

    def mutate(self, aggregate: Aggregate | None) -> Aggregate:
        """Apply this event to `aggregate` (or create it, for a first event)."""
        if aggregate is None:
            raise TypeError(f"{type(self).__name__} cannot start an aggregate")
        if self.originator_id != aggregate.id:
            raise ValueError(f"event for {self.originator_id} applied to {aggregate.id}")
        if self.originator_version != aggregate.version + 1:
            raise ValueError(f"event version {self.originator_version} after {aggregate.version}")
        self.apply(aggregate)
        aggregate.version = self.originator_version
        aggregate.history.append(self)
        aggregate.chain_head = getattr(self, "_link", aggregate.chain_head)
        return aggregate

    def apply(self, aggregate: Any) -> None:
        """Change the aggregate's state; overridden by events that change any."""

    def payload(self) -> dict[str, Any]:
        """The event's own fields, without the store's bookkeeping."""
        return self.model_dump(exclude=BOOKKEEPING)

    def stored_state(self) -> bytes | None:
        """The state `Seal` made for the store, once (None after that, or if none)."""
        state: bytes | None = getattr(self, "_state", None)
        if state is not None:
            object.__delattr__(self, "_state")
        return state

    def keep(self, state: bytes | None = None, link: str | None = None) -> None:
        """Keep the `state` about to be stored (for `stored_state`), and the event's `link`
        as read from the store (for the aggregate's `chain_head`)."""
        if state is not None:
            object.__setattr__(self, "_state", state)
        if link is not None:
            object.__setattr__(self, "_link", link)


class CreationEvent(DomainEvent):
    """An event that starts an aggregate's history."""

    aggregate_class: ClassVar[type[Aggregate]]

    def mutate(self, aggregate: Aggregate | None) -> Aggregate:
        if aggregate is not None or self.originator_version != 1:
            raise ValueError(f"{type(self).__name__} must be the first event")
        created = self.aggregate_class(self.originator_id)
        created.version = 1
        self.apply(created)
        created.history.append(self)
        created.chain_head = getattr(self, "_link", None)
        return created


Seal = Callable[[DomainEvent], str]
"""Makes an event's state as the store will keep it (`DomainEvent.keep`); its `link`."""


def link(originator_id: UUID, version: int, topic: str, state: bytes) -> str:
    """The digest that the next event's `chain` holds: of the event's aggregate, version,
    topic (its type) and its exact plaintext state as stored (which holds its own `chain`).
    So each event vouches for the whole history before it."""
    digest = hashlib.sha256(originator_id.bytes)
    digest.update(version.to_bytes(8, "big"))
    digest.update(topic.encode())
    digest.update(b"\0")  # a topic holds no NUL: where it ends is unambiguous
    digest.update(state)
    return digest.hexdigest()


def first_link(originator_id: UUID) -> str:
    """The `chain` of an aggregate's first event: moved to another aggregate, it shows."""
    return hashlib.sha256(b"hotline first event\0" + originator_id.bytes).hexdigest()


class Aggregate:
    """A consistency boundary whose state is the fold of its events."""

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0
        self.history: list[DomainEvent] = []
        self._pending: list[DomainEvent] = []
        self.chain_head: str | None = None
        """The `link` of the aggregate's last event (None: it has none yet)."""

    @classmethod
    def _create(cls, id: UUID, event_class: type[CreationEvent], **fields: Any) -> Self:
        event = _make(event_class, id, 1, fields)
        created = event.mutate(None)
        assert isinstance(created, cls)
        created._pending.append(event)
        return created

    def _next(self, event_class: type[DomainEvent], **fields: Any) -> Any:
        """A validated next event, not yet applied: check it, then `_record` it."""
        return _make(event_class, self.id, self.version + 1, fields)

    def _record(self, event: DomainEvent) -> None:
        event.mutate(self)
        self._pending.append(event)

    def attribute_to(self, actor: str, seal: Seal, role: str | None = None) -> None:
        """Sign the events not yet saved: `actor` recorded them, as database role `role` if
        any, each after the one before it (its `chain`), as `seal` will store them (the
        application does, as it saves them)."""
        for event in self._pending:
            # Set in place, once, before the event is stored (as the store sets its position):
            # a copy of each event cost a tenth of an import.
            event.__dict__["actor"] = actor
            if role is not None:
                event.__dict__["role"] = role
            first = event.originator_version == 1
            event.__dict__["chain"] = first_link(self.id) if first else self.chain_head
            self.chain_head = seal(event)

    def collect_events(self) -> Sequence[DomainEvent]:
        """The events triggered since the aggregate was loaded (for `Application.save`)."""
        collected, self._pending = self._pending, []
        return collected


def _make(
    event_class: type[DomainEvent], id: UUID, version: int, fields: dict[str, Any]
) -> DomainEvent:
    recorded = now()
    try:
        event = event_class(
            originator_id=id, originator_version=version, timestamp=recorded, **fields
        )
    except ValidationError as error:
        raise InvalidInput(f"{event_class.name}: {describe(error)}") from None
    if not FIRST_DAY <= event.at.date() <= LAST_DAY:
        raise InvalidInput(
            f"{event_class.name}: happened time {event.at:%Y-%m-%d %H:%M} is outside the "
            f"working-day calendar ({FIRST_DAY} … {LAST_DAY}); give the time it really happened"
        )
    if event.at > recorded + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"{event_class.name}: happened time {event.at:%Y-%m-%d %H:%M} is in the future; "
            "give the time it really happened with --at"
        )
    return event
