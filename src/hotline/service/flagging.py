"""Flagging orders before and after their limits (the overdue scheduler's pass): those of the
deadline set that governs each order (1·5·13, or Order No. 20 for 12315 complaints and reports).

A pass at a time T looks at every order open at T, as it stood then (its events that
happened by T: a pass as of a past time over a back-filled store flags what was due then),
on the working-day calendar, and records a `flagged` event at T on each order whose limit
falls due within the warning window (`due_soon`) or has passed (`overdue`). The order
aggregate flags each (limit, level, due date) once, so a repeated pass, or two passes at
once, flag nothing twice: the second writer of the same order version is refused by the
store. A flag the read model already shows is skipped without loading the order.

The flags are saved `BATCH` orders to a transaction (a city's backlog is tens of thousands).
A batch that another writer got to first (a second pass, an operator) is saved by nobody;
its orders are then flagged one by one, each reloaded (`save_order`'s retry) and found
flagged or flagged now. An order that cannot be flagged is left out of its batch and
flagged on its own, so it is reported with its number while the pass goes on to the others;
one received after T (a few minutes "in the future", within the clock skew allowed) is not
there yet. Only a store that fails stops a pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from hotline.adapters.eventstore import store_failure
from hotline.domain.aggregate import in_shanghai, now
from hotline.domain.errors import HotlineError
from hotline.domain.limits import LimitStatus
from hotline.domain.order import FlagLevel, Order
from hotline.service.application import ConcurrentChange, HotlineApplication
from hotline.service.reports import Reports

BATCH = 200
"""Orders flagged per transaction, each with all its flags of the pass."""


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
    failed: list[Failure] = field(default_factory=list)
    """Orders that could not be flagged; the pass went on to the others."""


def flag_due_orders(app: HotlineApplication, at: datetime | None = None, window: int = 0) -> Pass:
    """One pass at `at` (default: now): flag orders open then, as they stood then, due within
    `window` working days after its day (0: by the end of it) or past their limit. Nothing
    is flagged on a day that is not a working day: no limit falls due then, and nobody is
    on duty; nor, on a day a local closure makes off for some units or districts, on the
    orders of those (the pass goes on for the others)."""
    moment = in_shanghai(at) if at is not None else now()
    today = moment.date()
    if not app.calendar().is_working_day(today):
        return Pass(today, False, [], 0)
    already = 0
    candidates: list[Flag] = []
    for due in Reports(app).due(window=window, as_of=moment):
        if not due.working_today:
            continue
        level = FlagLevel.OVERDUE if due.status is LimitStatus.OVERDUE else FlagLevel.DUE_SOON
        seen = due.flagged
        if seen is not None and (seen.level, seen.due) == (level, due.due):
            already += 1  # the read model shows it: no need to load the order
            continue
        candidates.append(Flag(due.number, due.unit, due.limit.value, level, due.due))
    of_order: dict[str, list[int]] = {}  # each order's candidates, orders as first listed
    for index, flag in enumerate(candidates):
        of_order.setdefault(flag.number, []).append(index)
    numbers = list(of_order)
    outcomes: dict[int, bool | Failure] = {}
    for start in range(0, len(numbers), BATCH):
        batch = [index for number in numbers[start : start + BATCH] for index in of_order[number]]
        done = _flag_batch(app, [candidates[index] for index in batch], moment)
        outcomes.update(zip(batch, done, strict=True))
    outcomes = dict(sorted(outcomes.items()))
    flagged = [candidates[index] for index, done in outcomes.items() if done is True]
    failed = [done for done in outcomes.values() if isinstance(done, Failure)]
    already += sum(done is False for done in outcomes.values())
    return Pass(today, True, flagged, already, failed)


_log = logging.getLogger(__name__)


def _flag_batch(app: HotlineApplication, flags: list[Flag], at: datetime) -> list[bool | Failure]:
    """Record `flags` in one transaction; for each, whether it was recorded now (False: the
    order has it already) or why it could not be. An order whose flagging fails, and every
    order of a batch someone else wrote to first, is flagged on its own (`_flag_alone`)."""
    try:
        orders = app.orders(flag.number for flag in flags)
    except Exception as error:
        if store_failure(error) is not None:
            raise
        return [_flag_alone(app, flag, at) for flag in flags]  # to find the order that fails
    alone = {flag.number for flag in flags} - set(orders)  # left to `app.order` to refuse
    recorded: list[bool | None] = []
    for flag in flags:
        if flag.number in alone:
            recorded.append(None)
            continue
        try:
            recorded.append(orders[flag.number].flag(at, flag.limit, flag.level, flag.due))
        except Exception as error:
            if store_failure(error) is not None:
                raise  # the store fails: no other order can be flagged either
            alone.add(flag.number)
            orders.pop(flag.number, None)
            recorded.append(None)
    changed = {flag.number for flag, done in zip(flags, recorded, strict=True) if done}
    try:
        app.save_orders([order for number, order in orders.items() if number in changed])
    except ConcurrentChange:
        return [_flag_alone(app, flag, at) for flag in flags]
    return [
        _flag_alone(app, flag, at) if flag.number in alone else done is True
        for flag, done in zip(flags, recorded, strict=True)
    ]


def _flag_alone(app: HotlineApplication, flag: Flag, at: datetime) -> bool | Failure:
    """`flag` recorded in a transaction of its own: whether it was recorded now, or why not."""
    flagged = False

    def attempt() -> Order:  # on a fresh load of the order at each attempt
        nonlocal flagged
        order = app.order(flag.number)
        flagged = order.flag(at, flag.limit, flag.level, flag.due)
        return order

    try:
        app.save_order(attempt(), retry=attempt)
    except Exception as error:
        if store_failure(error) is not None:
            raise  # the store fails: no other order can be flagged either
        why = str(error) if isinstance(error, HotlineError) else repr(error)
        _log.warning("order %s: not flagged: %s", flag.number, why)
        return Failure(flag.number, why)
    return flagged
