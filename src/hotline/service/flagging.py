"""Flagging orders before and after their 1·5·13 limits (the overdue scheduler's pass).

A pass looks at every open order on the working-day calendar as it stands, and
records a `flagged` event on each order whose limit falls due within the warning
window (`due_soon`) or has passed (`overdue`). The order aggregate flags each
(limit, level, due date) once, so a repeated pass, or two passes at once, flag nothing twice:
the second writer of the same order version is refused by the store, reloads the
order (`save_order`'s retry), and finds it flagged already. A flag the read model already
shows is skipped without loading the order.

Each order is flagged on its own: an order whose status changed after the pass's time (one
received a few minutes "in the future", within the clock skew allowed) is left to a later
pass, and an order that cannot be flagged is reported with its number while the pass goes
on to the others. Only a store that fails stops a pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from hotline.adapters.eventstore import store_failure
from hotline.domain.aggregate import in_shanghai, now
from hotline.domain.errors import HotlineError
from hotline.domain.limits import LimitStatus
from hotline.domain.order import FlagLevel, Order
from hotline.service.application import HotlineApplication
from hotline.service.reports import Reports


@dataclass(frozen=True)
class Flag:
    number: str
    unit: str
    limit: str
    level: FlagLevel
    due: date


@dataclass(frozen=True)
class Failure:
    """An order the pass could not flag, and why."""

    number: str
    message: str


@dataclass(frozen=True)
class Pass:
    """What one pass did: the flags recorded, and whether `day` was a working day."""

    day: date
    working_day: bool
    flagged: list[Flag]
    already: int
    """Candidates flagged before (by an earlier pass or another scheduler)."""
    later: list[str] = field(default_factory=list)
    """Orders whose status changed after the pass's time: a later pass judges them."""
    failed: list[Failure] = field(default_factory=list)
    """Orders that could not be flagged; the pass went on to the others."""


class _Outcome(Enum):
    FLAGGED = "flagged"
    ALREADY = "already"
    LATER = "later"


def flag_due_orders(app: HotlineApplication, at: datetime | None = None, window: int = 0) -> Pass:
    """One pass at `at` (default: now): flag open orders due within `window` working days
    after today (0: by the end of today) or past their limit. Nothing is flagged on a day
    that is not a working day: no limit falls due then, and nobody is on duty."""
    moment = in_shanghai(at) if at is not None else now()
    today = moment.date()
    if not app.calendar().is_working_day(today):
        return Pass(today, False, [], 0)
    flagged: list[Flag] = []
    already = 0
    later: list[str] = []
    failed: list[Failure] = []
    for due in Reports(app).due(today=today, window=window):
        level = FlagLevel.OVERDUE if due.status is LimitStatus.OVERDUE else FlagLevel.DUE_SOON
        flag = Flag(due.number, due.unit, due.limit.value, level, due.due)
        seen = due.flagged
        if seen is not None and (seen.level, seen.due) == (level, due.due):
            already += 1  # the read model shows it: no need to load the order
            continue
        try:
            outcome = _flag(app, flag, moment)
        except Exception as error:
            if store_failure(error) is not None:
                raise  # the store fails: no other order can be flagged either
            why = str(error) if isinstance(error, HotlineError) else repr(error)
            _log.warning("order %s: not flagged: %s", flag.number, why)
            failed.append(Failure(flag.number, why))
            continue
        if outcome is _Outcome.FLAGGED:
            flagged.append(flag)
        elif outcome is _Outcome.LATER:
            later.append(flag.number)
        else:
            already += 1
    return Pass(today, True, flagged, already, later, failed)


_log = logging.getLogger(__name__)


def _flag(app: HotlineApplication, flag: Flag, at: datetime) -> _Outcome:
    outcome = _Outcome.ALREADY

    def attempt() -> Order:  # on a fresh load of the order at each attempt
        nonlocal outcome
        outcome = _Outcome.ALREADY
        order = app.order(flag.number)
        if order.last_change().at > at:
            outcome = _Outcome.LATER  # the pass's view of it did not hold yet at `at`
        elif order.flag(at, flag.limit, flag.level, flag.due):
            outcome = _Outcome.FLAGGED
        return order

    app.save_order(attempt(), retry=attempt)
    return outcome
