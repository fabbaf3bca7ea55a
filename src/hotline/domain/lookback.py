"""How far back a period must read (回溯): the earliest day an order may have been received, or
a 12315 chain started, and still have a time limit falling on or after the period's first day.

Due dates are computed at query time with the calendar in effect (an amendment moves them
without a rebuild), so the lookback is too: per deadline set, the set's longest limit counted
from the receipt, and Order No. 20's longest counted from a later decision (受理, 调解终结,
立案决定), each walked back in working days from the period's first day on the strictest
calendar (every closure off, local ones too: a place with fewer working days has later due
dates). An extension's promised date is not a span: the read model finds those by their day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from hotline.domain.calendar import FIRST_DAY, WorkingCalendar
from hotline.domain.limits import DeadlineSet, TimeLimitRules
from hotline.domain.vocabulary import Channel, Kind


@dataclass(frozen=True)
class Lookback:
    """What a period starting on `first` must read of the orders received before it."""

    first: int
    """The period's first day (`date.toordinal()`)."""
    received: dict[tuple[int, int], int]
    """By (channel code, kind code): the earliest receipt day whose limits may reach `first`
    (`first` itself for orders no set governs: they have no limit)."""
    chained: int
    """The earliest day a 12315 decision (受理, 调解终结, 立案决定) may have been made and a
    limit counted from it still reach `first`."""

    @property
    def earliest(self) -> int:
        """The earliest of the days: before it only later events make an order needed."""
        return min([self.chained, *self.received.values()])


def lookback(calendar: WorkingCalendar, rules: TimeLimitRules, first: date) -> Lookback:
    """The lookback of a period starting on `first`, by the deadline set of each channel and
    kind (`rules.governs`) and the limits' spans in working days (`rules`)."""
    o20 = rules.order_20
    spans = {
        DeadlineSet.HOTLINE_12345.code: max(
            rules.first_contact_days, rules.return_days, *(c.days for c in rules.close)
        ),
        # A complaint not yet accepted is due to end mediation 45 after the acceptance limit.
        DeadlineSet.ORDER_20.code: max(
            o20.acceptance_days + o20.mediation_days, o20.report_check_extended_days
        ),
        DeadlineSet.NONE.code: 0,
    }
    pairs = [(c.code, k.code) for c in Channel for k in Kind]
    sets = rules.deadline_sets(
        np.array([c for c, _ in pairs], dtype=np.int64),
        np.array([k for _, k in pairs], dtype=np.int64),
    )
    reach = {span: _reach(calendar, first, span) for span in set(spans.values())}
    chained = max(o20.mediation_days, o20.termination_notice_days, o20.report_notice_days)
    return Lookback(
        first=first.toordinal(),
        received={pair: reach[spans[int(s)]] for pair, s in zip(pairs, sets, strict=True)},
        chained=_reach(calendar, first, chained),
    )


def _reach(calendar: WorkingCalendar, first: date, days: int) -> int:
    """The earliest day from which a limit of `days` working days (the day itself not
    counted) may end on or after `first` on any place's calendar: before it, `days` working
    days of the strictest calendar pass before `first`. The calendar's first day if it has
    too few."""
    closed = {c.day for c in calendar.local_closures}
    day, counted = first, 0
    while counted < days and day > FIRST_DAY:
        day -= timedelta(days=1)
        counted += calendar.is_working_day(day) and day not in closed
    return day.toordinal()
