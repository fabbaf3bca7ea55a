"""The work order (工单) aggregate and its events (domain.md §3).

The order number (工单编号) is the key: the aggregate id is derived from it, so
a second `received` for the same number can never make a second order.
Every method checks that its event makes sense now; a refusal raises
`OrderRuleViolation` and triggers nothing, so nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)

from hotline.domain import lengths
from hotline.domain.aggregate import (
    BOOKKEEPING,
    CHECKED_BY_TARGET,
    LINES,
    STORED,
    Aggregate,
    CreationEvent,
    DomainEvent,
    describe,
)
from hotline.domain.calendar import LAST_DAY
from hotline.domain.credit_code import credit_code
from hotline.domain.errors import HotlineError, InvalidInput, OrderRuleViolation
from hotline.domain.personal_data import mask
from hotline.domain.vocabulary import (
    Channel,
    ClosingResult,
    ContactMethod,
    Decision,
    DeclineReason,
    Evaluation,
    Kind,
    MediationOutcome,
    Rating,
)

ORDER_NUMBER = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_./-]{{0,{lengths.ORDER_NUMBER - 1}}}")
PHONE = re.compile(r"\+?[0-9][0-9 -]{2,19}")
YUAN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_YUAN = Decimal("21474836.47")
"""The most a yuan amount may be: its fen must fit the read model's 32-bit facts."""
ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://hotline.invalid/orders")

ShortText = Annotated[str, Field(max_length=lengths.SHORT_TEXT), LINES]
LongText = Annotated[str, Field(max_length=lengths.LONG_TEXT), LINES]
Reason = Annotated[str, Field(min_length=1, max_length=lengths.SHORT_TEXT), LINES]


def _order_number(value: str) -> str:
    if not ORDER_NUMBER.fullmatch(value):
        raise ValueError(
            f"an order number is 1-{lengths.ORDER_NUMBER} letters, digits and - _ . /, starting "
            "with a letter or digit"
        )
    return value


def _phone(value: str) -> str:
    if not PHONE.fullmatch(value):
        raise ValueError("a phone number is 3-20 digits, spaces or dashes, with an optional +")
    return value


def _yuan(value: Any) -> Any:
    """An amount is exact: a float (a JSON number with a point) or an exponent is refused."""
    if isinstance(value, bool | float) or (isinstance(value, str) and not YUAN.fullmatch(value)):
        raise ValueError(f"an amount in yuan is written like 1234.50, not {value!r}")
    return value


OrderNumber = Annotated[str, AfterValidator(_order_number)]
Phone = Annotated[str, AfterValidator(_phone)]
CategoryLevel = Annotated[str, Field(min_length=1, max_length=lengths.CATEGORY_LEVEL)]
Category = Annotated[list[CategoryLevel], Field(min_length=1, max_length=lengths.CATEGORY_LEVELS)]
"""分类: an order's category, broadest level first (一级, 二级, 三级分类)."""
PlaceName = Annotated[str, Field(min_length=1, max_length=lengths.PLACE_NAME)]
CreditCode = Annotated[str, AfterValidator(credit_code)]
Yuan = Annotated[Decimal, BeforeValidator(_yuan), Field(ge=0, le=MAX_YUAN, decimal_places=2)]
"""元: a sum of money, exact (a decimal of at most 2 places, never a float), not negative."""


def order_id(number: str) -> UUID:
    """The aggregate id of order `number` (surrounding spaces ignored)."""
    return uuid5(ORDER_NAMESPACE, number.strip())


class OrderStatus(StrEnum):
    OPEN = "open"
    RETURNED = "returned"
    CLOSED = "closed"
    DECLINED = "declined"
    """不予受理: a 12315 complaint not accepted; that ends it, with no close."""


class Received(CreationEvent):
    """受理/转派: the unit received the order."""

    name = "received"
    number: OrderNumber
    unit: Annotated[str, Field(min_length=1, max_length=lengths.UNIT_NAME)]
    kind: Kind
    channel: Channel
    summary: LongText = ""
    repeat_of: OrderNumber | None = None
    citizen_name: Annotated[str, Field(max_length=lengths.PERSON_NAME)] | None = None
    citizen_phone: Phone | None = None
    category: Category | None = None
    district: PlaceName | None = None
    """区."""
    street: PlaceName | None = None
    """街道 (or town, 镇)."""
    address: Annotated[str, Field(min_length=1, max_length=lengths.ADDRESS)] | None = None
    """The citizen's address: personal data, shown masked."""
    entity: Annotated[str, Field(min_length=1, max_length=lengths.ENTITY_NAME)] | None = None
    """被投诉对象: the market entity complained about."""
    entity_code: CreditCode | None = None
    """The entity's 统一社会信用代码."""

    def apply(self, order: Order) -> None:
        order.number = self.number
        order.unit = self.unit
        order.kind = self.kind
        order.channel = self.channel
        order.received_at = self.at


class FirstContact(DomainEvent):
    """先行联系: the unit first reached the citizen."""

    name = "first_contact"
    by: Annotated[str, Field(max_length=lengths.SHORT_TEXT)] | None = None
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


class Accepted(DomainEvent):
    """受理: a 12315 complaint was accepted for handling (SAMR Order No. 20)."""

    name = "accepted"

    def apply(self, order: Order) -> None:
        order.decision = self


class Declined(DomainEvent):
    """不予受理: a 12315 complaint was not accepted, for one of Order No. 20's reasons; that
    ends the order, which needs no close."""

    name = "declined"
    reason: DeclineReason

    def apply(self, order: Order) -> None:
        order.status = OrderStatus.DECLINED
        order.decision = self


class MediationEnded(DomainEvent):
    """调解终结: mediation of an accepted complaint ended in an agreement or was terminated
    (with a reason); `recovered` is the economic loss recovered (挽回经济损失), in yuan."""

    name = "mediation_ended"
    outcome: MediationOutcome
    reason: ShortText = ""
    recovered: Yuan = Decimal(0)

    @model_validator(mode="after")
    def _terminated_has_reason(self) -> MediationEnded:
        if self.outcome is MediationOutcome.TERMINATED and not self.reason.strip():
            raise ValueError("a terminated mediation (终止调解) needs a reason")
        return self

    def apply(self, order: Order) -> None:
        order.mediation = self


class CaseDecided(DomainEvent):
    """立案决定: whether a case was opened (立案) on a 12315 report, or on an accepted complaint
    (诉转案)."""

    name = "case_decided"
    filed: bool

    def apply(self, order: Order) -> None:
        order.case = self


class Notified(DomainEvent):
    """告知: the complainant or reporter was told of a decision (`of`, its event's name)."""

    name = "notified"
    of: Decision

    def apply(self, order: Order) -> None:
        order.notified.add(self.of)


class Corrected(DomainEvent):
    """更正: a mistake in an earlier event (`target`, its version in the order) is corrected.

    The original stays in the history as recorded; everything that reads the order (its
    state, its limits, the read model, every report) uses `value` for `field` instead.
    `at` is when the correction was made."""

    name = "corrected"
    target: Annotated[int, Field(ge=1)]
    target_event: str
    field: str
    value: Annotated[JsonValue, CHECKED_BY_TARGET]
    previous: Annotated[JsonValue, CHECKED_BY_TARGET]
    reason: Reason

    def apply(self, order: Order) -> None:
        order.refold(self)

    def summary(self) -> str:
        """`#3 closed.result: resolved → explained (reason)`, personal data masked."""
        return correction_summary(self.model_dump(mode="json"))


def correction_summary(correction: Mapping[str, Any]) -> str:
    """What a correction (its stored fields) changed, in one line; personal data (and the
    numbers in free texts) masked."""
    field = correction["field"]
    before, after = (mask(field, correction[key]) for key in ("previous", "value"))
    return (
        f"#{correction['target']} {correction['target_event']}.{field}: {before} → {after} "
        f"({mask('reason', correction['reason'])})"
    )


class Revealed(DomainEvent):
    """The citizen's personal data (name, phone, address) was shown in full, to `actor`, for
    `reason`."""

    name = "revealed"
    reason: Reason


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


STATUS_EVENTS = (Received, Returned, ReturnRejected, Closed, Declined)
NOT_FACTS = (Corrected, Revealed)
"""Events about the record rather than the order: left out of its effective events."""
UNCORRECTABLE = (Flagged, Corrected, Revealed)
"""Events a correction cannot target: the scheduler's and the record's own."""
"""The events that change an order's status; nothing logged after one happened before it."""
_STATUS_AFTER = {
    "received": OrderStatus.OPEN,
    "returned": OrderStatus.RETURNED,
    "return_rejected": OrderStatus.OPEN,
    "closed": OrderStatus.CLOSED,
}
_PAST = {
    "received": "received",
    "returned": "returned",
    "return_rejected": "sent back by the hotline (二次退回)",
    "closed": "closed",
    "declined": "declined (不予受理)",
}

ORDER_EVENTS: dict[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        Received,
        FirstContact,
        Extended,
        Returned,
        ReturnRejected,
        Accepted,
        Declined,
        MediationEnded,
        CaseDecided,
        Notified,
        Closed,
        Revisited,
        Rated,
        Supervised,
    )
}
"""Order events by their domain.md §3 name, for the CLI and the bulk format; an export's row
gives its events in this order where their times tie (12315's steps before the close)."""


class Order(Aggregate):
    """A work order: its state is the fold of its events."""

    number: str
    unit: str
    kind: Kind
    channel: Channel
    received_at: datetime

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.corrections: list[Corrected] = []
        self._start()

    def _start(self) -> None:
        """The state before any event."""
        self.status = OrderStatus.OPEN
        self.first_contact: FirstContact | None = None
        self.closed: Closed | None = None
        self.rated: Rated | None = None
        self.decision: Accepted | Declined | None = None
        self.mediation: MediationEnded | None = None
        self.case: CaseDecided | None = None
        self.notified: set[Decision] = set()
        self.flags: set[tuple[str, FlagLevel, date]] = set()

    @property
    def events(self) -> list[DomainEvent]:
        """The order's effective events, oldest first: each as corrected, without the
        corrections themselves (`history` is the trail, as recorded)."""
        return _effective(self.history, self.corrections)

    def corrected_by(self) -> dict[int, list[int]]:
        """The versions of the corrections of each corrected event, by the event's version."""
        found: dict[int, list[int]] = {}
        for correction in self.corrections:
            found.setdefault(correction.target, []).append(correction.originator_version)
        return found

    def refold(self, correction: Corrected) -> None:
        """Take `correction` in: the state becomes the fold of the corrected events."""
        self.corrections.append(correction)
        self._start()
        for event in self.events:
            event.apply(self)

    @classmethod
    def receive(cls, number: str, at: datetime, **fields: Any) -> Order:
        """A new order, received by `fields['unit']` at `at`."""
        if not isinstance(number, str):
            raise InvalidInput(f"order number must be text, not {number!r}")
        number = number.strip()
        repeat_of = fields.get("repeat_of")
        if isinstance(repeat_of, str) and repeat_of.strip() == number:
            raise OrderRuleViolation(
                f"order {number} cannot repeat itself (重复工单); give the earlier order's number"
            )
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
        if event.until > LAST_DAY:
            raise InvalidInput(
                f"order {self.number}: the promised date {event.until} is after the last day "
                f"the working-day calendar counts ({LAST_DAY})"
            )
        if event.until <= event.at.date():
            raise OrderRuleViolation(
                f"order {self.number}: the promised date {event.until} must be after the day "
                f"the extension was applied for ({event.at.date()})"
            )
        self._record(event)

    def return_(self, at: datetime, **fields: Any) -> None:
        self._require_open("a return (退单)")
        if rejected := self.events_of(ReturnRejected):
            raise OrderRuleViolation(
                f"order {self.number}: its return was rejected (二次退回) at "
                f"{rejected[-1].at:%Y-%m-%d %H:%M}; the hotline has ruled it the unit's, so it "
                "cannot be returned again"
            )
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

    def accept(self, at: datetime, **fields: Any) -> None:
        self._decide(Accepted, "an acceptance (受理)", at, fields)

    def decline(self, at: datetime, **fields: Any) -> None:
        self._decide(Declined, "a decline (不予受理)", at, fields)

    def end_mediation(self, at: datetime, **fields: Any) -> None:
        if not isinstance(self.decision, Accepted):
            raise OrderRuleViolation(
                f"order {self.number} {self._decided()}: mediation (调解) ends only on an "
                "accepted 12315 complaint"
            )
        if self.mediation is not None:
            raise OrderRuleViolation(
                f"order {self.number}: mediation already ended at "
                f"{self.mediation.at:%Y-%m-%d %H:%M}"
            )
        event: MediationEnded = self._event(MediationEnded, at, fields)
        self._not_before(event, self.decision)
        self._record(event)

    def decide_case(self, at: datetime, **fields: Any) -> None:
        report = self.channel is Channel.HOTLINE_12315 and self.kind is Kind.REPORT
        if not report and not (self._complaint_12315() and isinstance(self.decision, Accepted)):
            raise OrderRuleViolation(
                f"order {self.number} is {self._described()}"
                + ("" if not self._complaint_12315() else f" and {self._decided()}")
                + ": a case decision (立案决定) is logged only for a 12315 report (举报) or an "
                "accepted 12315 complaint (诉转案)"
            )
        if self.case is not None:
            raise OrderRuleViolation(
                f"order {self.number}: the case was already decided at "
                f"{self.case.at:%Y-%m-%d %H:%M}"
            )
        event: CaseDecided = self._event(CaseDecided, at, fields)
        if isinstance(self.decision, Accepted):
            self._not_before(event, self.decision)
        self._record(event)

    def notify(self, at: datetime, **fields: Any) -> None:
        event: Notified = self._event(Notified, at, fields)
        decision = {
            Decision.ACCEPTED: self.decision if isinstance(self.decision, Accepted) else None,
            Decision.DECLINED: self.decision if isinstance(self.decision, Declined) else None,
            Decision.MEDIATION_ENDED: self.mediation,
            Decision.CASE_DECIDED: self.case,
        }[event.of]
        if decision is None:
            raise OrderRuleViolation(
                f"order {self.number} has no {event.of.value} ({event.of.label}) decision to tell "
                "of: log the decision first"
            )
        if event.of in self.notified:
            raise OrderRuleViolation(
                f"order {self.number}: the {event.of.value} decision was already told (告知)"
            )
        self._not_before(event, decision)
        self._record(event)

    def flag(self, at: datetime, limit: str, level: FlagLevel, due: date) -> bool:
        """Flag `limit`, falling due on `due`, at `level`, as the order stood at `at` (a pass
        as of a past time flags a back-filled order that was open then, though closed since);
        False (and nothing recorded) if it already is, or if it was not open at `at`."""
        if self.status_at(at) is not OrderStatus.OPEN or (limit, level, due) in self.flags:
            return False
        self._record(self._next(Flagged, at=at, limit=limit, level=level, due=due))
        return True

    def status_at(self, at: datetime) -> OrderStatus | None:
        """The order's status as it stood at `at`; None if it was not received yet."""
        found = None
        for event in self.events:
            if isinstance(event, STATUS_EVENTS) and event.at <= at:
                found = _STATUS_AFTER[event.name]
        return found

    def correct(self, at: datetime, target: int, field: str, value: Any, reason: str) -> None:
        """Correct `field` of the event with version `target` to `value`; refused, with
        nothing recorded, if the order's history would then break a rule."""
        original = self._target(target)
        if (
            field not in type(original).model_fields
            or field in BOOKKEEPING - {"at"}
            or field
            in (
                "number",
                "name",
            )
        ):
            fields = sorted(set(original.payload()) - {"number"} | {"at"})
            raise InvalidInput(
                f"order {self.number}: {original.name} (#{target}) has no field {field!r} to "
                f"correct; use one of: {', '.join(fields)}"
            )
        current = next(e for e in self.events if e.originator_version == target)
        try:
            corrected = type(current).model_validate({**current.model_dump(), field: value})
        except ValidationError as error:
            raise InvalidInput(
                f"order {self.number}: {original.name}.{field} cannot be {value!r}: "
                f"{describe(error)}"
            ) from None
        before = current.model_dump(mode="json")[field]
        after = corrected.model_dump(mode="json")[field]
        if after == before:
            raise InvalidInput(
                f"order {self.number}: {original.name}.{field} (#{target}) is already {after}"
            )
        correction: Corrected = self._next(
            Corrected,
            at=at,
            target=target,
            target_event=original.name,
            field=field,
            value=after,
            previous=before,
            reason=reason,
        )
        self._check_history(_effective(self.history, [*self.corrections, correction]))
        self._record(correction)

    def reveal(self, at: datetime, reason: str) -> None:
        """Record that the citizen's personal data was shown in full, and why."""
        self._record(self._next(Revealed, at=at, reason=reason))

    def event_version(self, event: str) -> int:
        """The version of the order's one `event` (a name such as `closed`, or `#3`/`3`)."""
        if event.lstrip("#").isdigit():
            return self._target(int(event.lstrip("#"))).originator_version
        found = [e for e in self.history if e.name == event and not isinstance(e, UNCORRECTABLE)]
        if len(found) == 1:
            return found[0].originator_version
        if not found:
            raise InvalidInput(
                f"order {self.number} has no {event!r} event to correct; see `hotline order "
                f"show {self.number}` for its events"
            )
        versions = ", ".join(f"#{e.originator_version}" for e in found)
        raise InvalidInput(
            f"order {self.number} has {len(found)} {event} events ({versions}); name one by "
            "its number"
        )

    def last_change(self) -> DomainEvent:
        """The order's last change of status (received, returned, return rejected, closed):
        nothing that happens to it can be logged before it."""
        facts = self.events if self.corrections else self.history
        return next(e for e in reversed(facts) if isinstance(e, STATUS_EVENTS))

    def events_of(self, event_class: type[DomainEvent]) -> list[Any]:
        """This order's effective events of one class, oldest first."""
        return [e for e in self.events if isinstance(e, event_class)]

    def _target(self, version: int) -> DomainEvent:
        if not 1 <= version <= len(self.history):
            raise InvalidInput(
                f"order {self.number} has no event #{version}: its events are #1-"
                f"#{len(self.history)}"
            )
        event = self.history[version - 1]
        if isinstance(event, UNCORRECTABLE):
            raise InvalidInput(
                f"order {self.number}: #{version} is a {event.name} event, which cannot be "
                "corrected; correct the event it concerns"
            )
        return event

    def _check_history(self, events: list[DomainEvent]) -> None:
        """Replay `events` through the order's rules: OrderRuleViolation if one breaks one."""
        received, *rest = events
        assert isinstance(received, Received)
        fields = received.payload()
        try:
            scratch = Order.receive(fields.pop("number"), at=received.at, **fields)
            for event in rest:
                if not isinstance(event, Flagged):
                    ORDER_COMMANDS[event.name](scratch, at=event.at, **event.payload())
        except HotlineError as error:
            problem = str(error).removesuffix("; check --at")
            raise OrderRuleViolation(f"the correction would not stand: {problem}") from None

    def _event(self, event_class: type[DomainEvent], at: datetime, fields: dict[str, Any]) -> Any:
        """A validated next event, refused if it happened before the order's last change of
        status (received, returned, return rejected, closed): its times cannot run backwards."""
        event = self._next(event_class, at=at, **fields)
        last = self.last_change()
        if event.at < last.at:
            raise OrderRuleViolation(
                f"order {self.number}: {event_class.name} at {event.at:%Y-%m-%d %H:%M} is before "
                f"the order was {_PAST[last.name]} ({last.at:%Y-%m-%d %H:%M}); check --at"
            )
        return event

    def _complaint_12315(self) -> bool:
        return self.channel is Channel.HOTLINE_12315 and self.kind is Kind.COMPLAINT

    def _described(self) -> str:
        return f"a {self.channel.value} {self.kind.value} ({self.kind.label})"

    def _decided(self) -> str:
        if self.decision is None:
            return "has not been accepted (受理)"
        return f"was {self.decision.name} at {self.decision.at:%Y-%m-%d %H:%M}"

    def _decide(
        self,
        event_class: type[Accepted | Declined],
        what: str,
        at: datetime,
        fields: dict[str, Any],
    ) -> None:
        """受理 or 不予受理: once, while open, only for a 12315 complaint."""
        if not self._complaint_12315():
            raise OrderRuleViolation(
                f"order {self.number} is {self._described()}: {what} is logged only for a "
                "12315 complaint (SAMR Order No. 20)"
            )
        if self.decision is not None:
            raise OrderRuleViolation(
                f"order {self.number} {self._decided()}: a complaint is accepted or declined once"
            )
        self._require_open(what)
        self._record(self._event(event_class, at, fields))

    def _not_before(self, event: DomainEvent, decision: DomainEvent) -> None:
        """Refuse `event` if it happened before `decision`, the decision it follows."""
        if event.at < decision.at:
            raise OrderRuleViolation(
                f"order {self.number}: {event.name} at {event.at:%Y-%m-%d %H:%M} is before "
                f"{decision.name} ({decision.at:%Y-%m-%d %H:%M}); check --at"
            )

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


def _effective(history: list[DomainEvent], corrections: list[Corrected]) -> list[DomainEvent]:
    if not corrections:
        return [e for e in history if not isinstance(e, NOT_FACTS)]
    events = {e.originator_version: e for e in history if not isinstance(e, NOT_FACTS)}
    for correction in corrections:
        current = events[correction.target]
        events[correction.target] = type(current).model_validate(
            {**current.model_dump(), correction.field: correction.value}, context=STORED
        )
    return list(events.values())


def effective_states(
    stored: Iterable[tuple[int, str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """`Order.events` from stored states (version, event name, JSON fields), without making
    the events: each as corrected, the corrections and reveals left out. A correction keeps
    its value as the corrected event's JSON gives it, so the fields are those of
    `event.model_dump(mode="json")` (an import compares a batch's rows with them)."""
    events: dict[int, tuple[str, dict[str, Any]]] = {}
    for version, name, state in stored:
        if name == Corrected.name:
            target = events[state["target"]]
            events[state["target"]] = (target[0], {**target[1], state["field"]: state["value"]})
        elif name != Revealed.name:
            events[version] = (name, state)
    return list(events.values())


ORDER_COMMANDS: dict[str, Callable[..., None]] = {
    "first_contact": Order.contact,
    "extended": Order.extend,
    "returned": Order.return_,
    "return_rejected": Order.reject_return,
    "closed": Order.close,
    "revisited": Order.revisit,
    "rated": Order.rate,
    "supervised": Order.supervise,
    "accepted": Order.accept,
    "declined": Order.decline,
    "mediation_ended": Order.end_mediation,
    "case_decided": Order.decide_case,
    "notified": Order.notify,
}
"""What can happen to a received order, by the event's domain.md §3 name."""

Received.aggregate_class = Order
