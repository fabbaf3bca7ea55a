"""Flagging orders before and after their 1·5·13 limits (the overdue scheduler's pass).

A pass looks at every open order on the working-day calendar as it stands, and
records a `flagged` event on each order whose limit falls due within the warning
window (`due_soon`) or has passed (`overdue`). The order aggregate flags each
(limit, level, due date) once, so a repeated pass, or two passes at once, flag nothing twice:
the second writer of the same order version is refused by the store, reloads the
order (`save_order`'s retry), and finds it flagged already. A flag the read model already
shows is skipped without loading the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hotline.domain.aggregate import in_shanghai, now
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
class Pass:
    """What one pass did: the flags recorded, and whether `day` was a working day."""

    day: date
    working_day: bool
    flagged: list[Flag]
    already: int
    """Candidates flagged before (by an earlier pass or another scheduler)."""


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
    for due in Reports(app, app.readmodel).due(today=today, window=window):
        level = FlagLevel.OVERDUE if due.status is LimitStatus.OVERDUE else FlagLevel.DUE_SOON
        flag = Flag(due.number, due.unit, due.limit.value, level, due.due)
        seen = due.flagged
        if seen is not None and (seen.level, seen.due) == (level, due.due):
            already += 1  # the read model shows it: no need to load the order
        elif _flag(app, flag, moment):
            flagged.append(flag)
        else:
            already += 1
    return Pass(today, True, flagged, already)


def _flag(app: HotlineApplication, flag: Flag, at: datetime) -> bool:
    made = False

    def attempt() -> Order:  # on a fresh load of the order at each attempt
        nonlocal made
        order = app.order(flag.number)
        made = order.flag(at, flag.limit, flag.level, flag.due)
        return order

    app.save_order(attempt(), retry=attempt)
    return made
