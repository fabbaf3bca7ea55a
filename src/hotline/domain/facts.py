"""An order's facts (domain.md §3, §5, §6): what its limits and metrics read, folded from its
events.

This is the one table of how each event changes those facts, keyed by the event's domain.md
name and reading the event's fields as stored (JSON), so that the aggregate's view (`order
show`, from `Order.events`) and the read model's (every report, from stored states) are one
fold. An order's facts are a row of small ints (its number and unit beside them), plus a row
of its own for each event it may have many of: extensions, revisits, supervisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from hotline.domain import lengths
from hotline.domain.calendar import Days
from hotline.domain.order import (
    Accepted,
    CaseDecided,
    Closed,
    Declined,
    Extended,
    FirstContact,
    MediationEnded,
    Notified,
    Order,
    Rated,
    Received,
    Returned,
    ReturnRejected,
    Revisited,
    Supervised,
)
from hotline.domain.vocabulary import (
    Channel,
    ClosingResult,
    Decision,
    Evaluation,
    Kind,
    MediationOutcome,
    Rating,
    Vocabulary,
)

NONE = 0
"""A day fact's value where the order has no such event."""
UNSET = -1
"""A code fact's value where the order has no such value (no result, no rating)."""

FACT_COLUMNS = (
    "channel", "kind", "status", "received_day", "contact_day", "returned_day",
    "out_of_jurisdiction", "return_rejected", "closed_day", "no_reply_requested", "repeat",
    "result", "citizen_informed", "rating", "rating_excluded", "rated_day",
    "accepted_day", "declined_day", "mediation_day", "mediation_outcome", "recovered_fen",
    "case_day", "case_filed", "acceptance_notified_day", "mediation_notified_day",
    "case_notified_day", "contact_given",
)  # fmt: skip
"""An order's facts, in the order its fact columns (and the read model's packed facts) keep."""
FACT_INDEX = {name: index for index, name in enumerate(FACT_COLUMNS)}
CATEGORY_COLUMNS = tuple(f"category{level}" for level in range(1, lengths.CATEGORY_LEVELS + 1))
"""An order's category levels (一级, 二级, 三级分类), one fact each."""
PLACE_COLUMNS = ("district", "street", "entity", "entity_code")
"""Where an order's matter is (区, 街道) and whom it is about (被投诉对象, its code)."""
GROUP_COLUMNS = (*CATEGORY_COLUMNS, *PLACE_COLUMNS)
"""An order's texts that reports group it by (None where not given): kept beside its facts,
not among the numbers the limits and metrics read."""

Row = dict[str, Any]
"""One order's facts by name (`FACT_COLUMNS`, `GROUP_COLUMNS`), with its `number` and
`unit`."""
State = Mapping[str, Any]
"""An event's fields as stored: JSON values (times and dates as ISO text)."""


class StatusCode(IntEnum):
    """An order's status as a fact (a column value)."""

    OPEN = 0
    RETURNED = 1
    CLOSED = 2
    DECLINED = 3
    """不予受理: a 12315 complaint not accepted, which ends it."""


class Extension(NamedTuple):
    """延期: one extension of an order (its version in the order), applied for on one day."""

    version: int
    applied_day: int
    until_day: int


class Revisit(NamedTuple):
    """回访: one revisit; `evaluation` an `Evaluation` code, UNSET where none was given."""

    version: int
    day: int
    contacted: bool
    consistent: bool
    evaluation: int


class Supervision(NamedTuple):
    """督办: one supervision."""

    version: int
    day: int
    at_fault: bool


Detail = Extension | Revisit | Supervision
"""A fact an order may have many of: a row of its own."""


def _day(value: str) -> int:
    """A stored time's day (in its own offset, Asia/Shanghai) as a day number."""
    return datetime.fromisoformat(value).date().toordinal()


def _codes(vocabulary: type[Vocabulary]) -> dict[str | None, int]:
    return {None: UNSET} | {member.value: member.code for member in vocabulary}


CHANNEL, KIND, RESULT, RATING, EVALUATION, OUTCOME = map(
    _codes, (Channel, Kind, ClosingResult, Rating, Evaluation, MediationOutcome)
)
NOTIFIED_COLUMNS = {
    Decision.ACCEPTED.value: "acceptance_notified_day",
    Decision.DECLINED.value: "acceptance_notified_day",
    Decision.MEDIATION_ENDED.value: "mediation_notified_day",
    Decision.CASE_DECIDED.value: "case_notified_day",
}
"""The day fact each decision's notice (告知) sets: accepted or declined, both the acceptance
decision's."""


def _received(row: Row, state: State) -> None:
    levels = state.get("category") or []
    row.update(
        zip(CATEGORY_COLUMNS, [*levels, *[None] * (len(CATEGORY_COLUMNS) - len(levels))],
            strict=True),
        **{name: state.get(name) for name in PLACE_COLUMNS},
    )  # fmt: skip
    row.update(
        number=state["number"],
        unit=state["unit"],
        channel=CHANNEL[state["channel"]],
        kind=KIND[state["kind"]],
        repeat=state.get("repeat_of") is not None,
        contact_given=state.get("citizen_phone") is not None,
        status=StatusCode.OPEN,
        received_day=_day(state["at"]),
        contact_day=NONE,
        returned_day=NONE,
        out_of_jurisdiction=False,
        return_rejected=False,
        closed_day=NONE,
        result=UNSET,
        citizen_informed=False,
        no_reply_requested=False,
        rating=UNSET,
        rating_excluded=False,
        rated_day=NONE,
        accepted_day=NONE,
        declined_day=NONE,
        mediation_day=NONE,
        mediation_outcome=UNSET,
        recovered_fen=0,
        case_day=NONE,
        case_filed=False,
        acceptance_notified_day=NONE,
        mediation_notified_day=NONE,
        case_notified_day=NONE,
    )


def _first_contact(row: Row, state: State) -> None:
    row["contact_day"] = _day(state["at"])


def _returned(row: Row, state: State) -> None:
    """The limits read the first return: a later one (after 二次退回) keeps its day."""
    row["status"] = StatusCode.RETURNED
    if row["returned_day"] == NONE:
        row["returned_day"] = _day(state["at"])
        row["out_of_jurisdiction"] = state["out_of_jurisdiction"]


def _return_rejected(row: Row, state: State) -> None:
    row["status"] = StatusCode.OPEN
    row["return_rejected"] = True


def _closed(row: Row, state: State) -> None:
    row.update(
        status=StatusCode.CLOSED,
        closed_day=_day(state["at"]),
        result=RESULT[state["result"]],
        citizen_informed=state["citizen_informed"],
        no_reply_requested=state["no_reply_requested"],
    )


def _rated(row: Row, state: State) -> None:
    row.update(
        rating=RATING[state["rating"]],
        rating_excluded=state["excluded"],
        rated_day=_day(state["at"]),
    )


def _accepted(row: Row, state: State) -> None:
    row["accepted_day"] = _day(state["at"])


def _declined(row: Row, state: State) -> None:
    row.update(status=StatusCode.DECLINED, declined_day=_day(state["at"]))


def _mediation_ended(row: Row, state: State) -> None:
    """挽回经济损失 is kept in fen, an exact integer: the stored yuan is a decimal's text."""
    row.update(
        mediation_day=_day(state["at"]),
        mediation_outcome=OUTCOME[state["outcome"]],
        recovered_fen=int(Decimal(state["recovered"]) * 100),
    )


def _case_decided(row: Row, state: State) -> None:
    row.update(case_day=_day(state["at"]), case_filed=state["filed"])


def _notified(row: Row, state: State) -> None:
    row[NOTIFIED_COLUMNS[state["of"]]] = _day(state["at"])


def _extended(version: int, state: State) -> Extension:
    return Extension(version, _day(state["at"]), date.fromisoformat(state["until"]).toordinal())


def _revisited(version: int, state: State) -> Revisit:
    return Revisit(
        version,
        _day(state["at"]),
        state["contacted"],
        state["consistent"],
        EVALUATION[state["evaluation"]],
    )


def _supervised(version: int, state: State) -> Supervision:
    return Supervision(version, _day(state["at"]), state["at_fault"])


STARTS = Received.name
"""The event that makes an order's row anew: every other change needs the row as it was."""
ROW_CHANGES: Mapping[str, Callable[[Row, State], None]] = {
    Received.name: _received,
    FirstContact.name: _first_contact,
    Returned.name: _returned,
    ReturnRejected.name: _return_rejected,
    Closed.name: _closed,
    Rated.name: _rated,
    Accepted.name: _accepted,
    Declined.name: _declined,
    MediationEnded.name: _mediation_ended,
    CaseDecided.name: _case_decided,
    Notified.name: _notified,
}
"""How each event changes its order's row of facts, by the event's domain.md §3 name."""
DETAILS: Mapping[str, Callable[[int, State], Detail]] = {
    Extended.name: _extended,
    Revisited.name: _revisited,
    Supervised.name: _supervised,
}
"""The row of its own each event an order may have many of makes (from its version and
fields), by the event's domain.md §3 name. Any other event (flags, corrections, reveals) is no
fact of the order."""


@dataclass
class OrderFacts:
    """One order's facts: its row and its details, oldest first."""

    row: Row = field(default_factory=dict)
    details: list[Detail] = field(default_factory=list)

    def take(self, name: str, version: int, state: State) -> None:
        """Fold one event (its domain.md §3 name, version in the order, stored fields) in."""
        change = ROW_CHANGES.get(name)
        if change is not None:
            change(self.row, state)
            return
        detail = DETAILS.get(name)
        if detail is not None:
            self.details.append(detail(version, state))


def fold(order: Order, as_of: datetime | None = None) -> OrderFacts:
    """The facts of an aggregate: the fold of its effective events (as corrected); only of
    those that happened by `as_of` (`at` no later), if given."""
    facts = OrderFacts()
    for event in order.events:
        if as_of is None or event.at <= as_of:
            facts.take(event.name, event.originator_version, event.model_dump(mode="json"))
    return facts


@dataclass(frozen=True)
class FactColumns:
    """N orders' facts as numpy columns: what the limits' and metrics' columns are built from,
    whether the facts come from aggregates or from the read model's packed rows."""

    numbers: list[str]
    units: list[str]
    districts: list[str | None]
    """Each order's district (区), None where not given: its calendar's place, with its unit."""
    facts: Days
    """(N, 27): each order's `FACT_COLUMNS`."""
    extensions: Days
    """(E, 3): order row, applied day, until day; each order's oldest first."""
    revisits: Days
    """(V, 5): order row, day, contacted, consistent, evaluation."""
    supervisions: Days
    """(S, 3): order row, day, at fault."""

    def column(self, name: str) -> Days:
        """One fact of every order."""
        found: Days = self.facts[:, FACT_INDEX[name]]
        return found

    @classmethod
    def of(cls, orders: Sequence[OrderFacts]) -> FactColumns:
        """The columns of orders' facts (an aggregate's view, and tests)."""

        def details(kind: type[Detail]) -> list[tuple[int, ...]]:
            return [
                (index, *detail[1:])
                for index, facts in enumerate(orders)
                for detail in facts.details
                if isinstance(detail, kind)
            ]

        return cls.build(
            [facts.row["number"] for facts in orders],
            [facts.row["unit"] for facts in orders],
            [facts.row["district"] for facts in orders],
            _table([[facts.row[name] for name in FACT_COLUMNS] for facts in orders]),
            details(Extension),
            details(Revisit),
            details(Supervision),
        )

    @classmethod
    def build(
        cls,
        numbers: list[str],
        units: list[str],
        districts: list[str | None],
        facts: Days,
        extensions: Iterable[Sequence[int]],
        revisits: Iterable[Sequence[int]],
        supervisions: Iterable[Sequence[int]],
    ) -> FactColumns:
        """Columns from the orders' facts and their details' rows, each detail's first value
        being its order's row number instead of its version."""
        return cls(
            numbers,
            units,
            districts,
            facts,
            _table(extensions, len(Extension._fields)),
            _table(revisits, len(Revisit._fields)),
            _table(supervisions, len(Supervision._fields)),
        )


def _table(rows: Iterable[Sequence[int]], width: int = len(FACT_COLUMNS)) -> Days:
    found: Days = np.asarray(list(rows), dtype=np.int64).reshape(-1, width)
    return found
