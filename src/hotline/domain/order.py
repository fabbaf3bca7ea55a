"""The work order (工单) aggregate and its events (DOMAIN §3).

The order number (工单编号) is the key: the aggregate id is derived from it, so
a second `received` for the same number can never make a second order.
Every method checks that its event makes sense now; a refusal raises
`OrderRuleViolation` and triggers nothing, so nothing is written.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AfterValidator, Field

from hotline.domain.aggregate import Aggregate, CreationEvent, DomainEvent
from hotline.domain.errors import InvalidInput, OrderRuleViolation
from hotline.domain.vocabulary import (
    Channel,
    ClosingResult,
    ContactMethod,
    Evaluation,
    Kind,
    Rating,
)

ORDER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,63}")
PHONE = re.compile(r"\+?[0-9][0-9 -]{2,19}")
ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://hotline.invalid/orders")

ShortText = Annotated[str, Field(max_length=2_000)]
LongText = Annotated[str, Field(max_length=20_000)]
Reason = Annotated[str, Field(min_length=1, max_length=2_000)]


def _order_number(value: str) -> str:
    if not ORDER_NUMBER.fullmatch(value):
        raise ValueError(
            "an order number is 1-64 letters, digits and - _ . /, starting with a letter or digit"
        )
    return value


def _phone(value: str) -> str:
    if not PHONE.fullmatch(value):
        raise ValueError("a phone number is 3-20 digits, spaces or dashes, with an optional +")
    return value


OrderNumber = Annotated[str, AfterValidator(_order_number)]
Phone = Annotated[str, AfterValidator(_phone)]


def order_id(number: str) -> UUID:
    """The aggregate id of order `number` (surrounding spaces ignored)."""
    return uuid5(ORDER_NAMESPACE, number.strip())


class OrderStatus(StrEnum):
    OPEN = "open"
    RETURNED = "returned"
    CLOSED = "closed"


class Received(CreationEvent):
    """受理/转派: the unit received the order."""

    name = "received"
    number: OrderNumber
    unit: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Kind
    channel: Channel
    summary: LongText = ""
    repeat_of: OrderNumber | None = None
    citizen_name: Annotated[str, Field(max_length=100)] | None = None
    citizen_phone: Phone | None = None

    def apply(self, order: Order) -> None:
        order.number = self.number
        order.unit = self.unit
        order.kind = self.kind
        order.channel = self.channel
        order.received_at = self.at


class FirstContact(DomainEvent):
    """先行联系: the unit first reached the citizen."""

    name = "first_contact"
    by: ShortText | None = None
    method: ContactMethod | None = None

    def apply(self, order: Order) -> None:
        order.first_contact = self


class Extended(DomainEvent):
    """延期: an extension was applied for and granted, with a promised date."""

    name = "extended"
    until: date
    reason: Reason
    legal_basis: ShortText = ""


class Returned(DomainEvent):
    """退单: the unit sent the order back to the hotline."""

    name = "returned"
    reason: Reason
    out_of_jurisdiction: bool = False

    def apply(self, order: Order) -> None:
        order.status = OrderStatus.RETURNED


class ReturnRejected(DomainEvent):
    """二次退回: the hotline refused the return; the unit must handle the order."""

    name = "return_rejected"
    reason: ShortText = ""

    def apply(self, order: Order) -> None:
        order.status = OrderStatus.OPEN


class Closed(DomainEvent):
    """办结: the handling result was entered."""

    name = "closed"
    result: ClosingResult
    citizen_informed: bool = True
    no_reply_requested: bool = False
    report: LongText = ""

    def apply(self, order: Order) -> None:
        order.status = OrderStatus.CLOSED
        order.closed = self


class Revisited(DomainEvent):
    """回访: the hotline's follow-up check of a closed order."""

    name = "revisited"
    contacted: bool = True
    consistent: bool = True
    evaluation: Evaluation | None = None


class Rated(DomainEvent):
    """满意度测评: the citizen's satisfaction; `excluded` marks 客观件/不纳入测评."""

    name = "rated"
    rating: Rating
    excluded: bool = False

    def apply(self, order: Order) -> None:
        order.rated = self


class Supervised(DomainEvent):
    """督办: the hotline supervised the result; `at_fault` if the unit was found at fault."""

    name = "supervised"
    at_fault: bool = False


class FlagLevel(StrEnum):
    """How urgent a scheduler's flag is."""

    DUE_SOON = "due_soon"
    """The limit falls due within the warning window (by default: today)."""
    OVERDUE = "overdue"
    """The limit has passed and the order has not done what it asks."""


class Flagged(DomainEvent):
    """The scheduler flagged the open order: a limit (first contact, close …) falls due
    soon or has passed. Each (limit, level, due date) is flagged once: an extension's new
    promised date is flagged afresh."""

    name = "flagged"
    limit: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
    level: FlagLevel
    due: date

    def apply(self, order: Order) -> None:
        order.flags.add((self.limit, self.level, self.due))


STATUS_EVENTS = (Received, Returned, ReturnRejected, Closed)
"""The events that change an order's status; nothing logged after one happened before it."""
_PAST = {
    "received": "received",
    "returned": "returned",
    "return_rejected": "sent back by the hotline (二次退回)",
    "closed": "closed",
}

ORDER_EVENTS: dict[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        Received,
        FirstContact,
        Extended,
        Returned,
        ReturnRejected,
        Closed,
        Revisited,
        Rated,
        Supervised,
    )
}
"""Order events by their DOMAIN name, for the CLI and the bulk format."""


class Order(Aggregate):
    """A work order: its state is the fold of its events."""

    number: str
    unit: str
    kind: Kind
    channel: Channel
    received_at: datetime

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.status = OrderStatus.OPEN
        self.first_contact: FirstContact | None = None
        self.closed: Closed | None = None
        self.rated: Rated | None = None
        self.flags: set[tuple[str, FlagLevel, date]] = set()

    @classmethod
    def receive(cls, number: str, at: datetime, **fields: Any) -> Order:
        """A new order, received by `fields['unit']` at `at`."""
        if not isinstance(number, str):
            raise InvalidInput(f"order number must be text, not {number!r}")
        number = number.strip()
        return cls._create(order_id(number), Received, number=number, at=at, **fields)

    def contact(self, at: datetime, **fields: Any) -> None:
        self._require_open("a first contact")
        if self.first_contact is not None:
            raise OrderRuleViolation(
                f"order {self.number}: first contact already logged at "
                f"{self.first_contact.at:%Y-%m-%d %H:%M}"
            )
        self._record(self._event(FirstContact, at, fields))

    def extend(self, at: datetime, **fields: Any) -> None:
        self._require_open("an extension")
        event: Extended = self._event(Extended, at, fields)
        if event.until <= event.at.date():
            raise OrderRuleViolation(
                f"order {self.number}: the promised date {event.until} must be after the day "
                f"the extension was applied for ({event.at.date()})"
            )
        self._record(event)

    def return_(self, at: datetime, **fields: Any) -> None:
        self._require_open("a return (退单)")
        self._record(self._event(Returned, at, fields))

    def reject_return(self, at: datetime, **fields: Any) -> None:
        if self.status is not OrderStatus.RETURNED:
            raise OrderRuleViolation(
                f"order {self.number} is {self.status}, not returned: only a returned order "
                "can have its return rejected (二次退回)"
            )
        self._record(self._event(ReturnRejected, at, fields))

    def close(self, at: datetime, **fields: Any) -> None:
        self._require_open("a close (办结)")
        self._record(self._event(Closed, at, fields))

    def revisit(self, at: datetime, **fields: Any) -> None:
        self._record(self._after_close(Revisited, "a revisit (回访)", at, fields))

    def rate(self, at: datetime, **fields: Any) -> None:
        if self.rated is not None:
            raise OrderRuleViolation(
                f"order {self.number} was already rated {self.rated.rating.value} at "
                f"{self.rated.at:%Y-%m-%d %H:%M}"
            )
        self._record(self._after_close(Rated, "a rating (满意度测评)", at, fields))

    def supervise(self, at: datetime, **fields: Any) -> None:
        self._record(self._event(Supervised, at, fields))

    def flag(self, at: datetime, limit: str, level: FlagLevel, due: date) -> bool:
        """Flag `limit`, falling due on `due`, at `level`; False (and nothing recorded) if it
        already is, or if the order is no longer open."""
        if self.status is not OrderStatus.OPEN or (limit, level, due) in self.flags:
            return False
        self._record(self._event(Flagged, at, {"limit": limit, "level": level, "due": due}))
        return True

    def events_of(self, event_class: type[DomainEvent]) -> list[Any]:
        """This order's events of one class, oldest first."""
        return [e for e in self.history if isinstance(e, event_class)]

    def _event(self, event_class: type[DomainEvent], at: datetime, fields: dict[str, Any]) -> Any:
        """A validated next event, refused if it happened before the order's last change of
        status (received, returned, return rejected, closed): its times cannot run backwards."""
        event = self._next(event_class, at=at, **fields)
        last = next(e for e in reversed(self.history) if isinstance(e, STATUS_EVENTS))
        if event.at < last.at:
            raise OrderRuleViolation(
                f"order {self.number}: {event_class.name} at {event.at:%Y-%m-%d %H:%M} is before "
                f"the order was {_PAST[last.name]} ({last.at:%Y-%m-%d %H:%M}); check --at"
            )
        return event

    def _require_open(self, what: str) -> None:
        if self.status is not OrderStatus.OPEN:
            raise OrderRuleViolation(
                f"order {self.number} is {self.status}: {what} can only be logged while it is open"
            )

    def _after_close(
        self, event_class: type[DomainEvent], what: str, at: datetime, fields: dict[str, Any]
    ) -> DomainEvent:
        if self.closed is None:
            raise OrderRuleViolation(
                f"order {self.number} is {self.status}: "
                f"{what} can only be logged after it is closed"
            )
        event: DomainEvent = self._event(event_class, at, fields)
        return event


Received.aggregate_class = Order
