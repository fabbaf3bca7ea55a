"""按时受理率 on-time acceptance (12315, SAMR Order No. 20): complaints accepted or declined
within 7 working days of receipt ÷ complaints whose acceptance limit fell in the period or
that were decided in it; an open complaint past its limit, undecided, counts as late (as
the on-time rate counts an open order past its close limit)."""

import numpy as np

from hotline.domain.calendar import Days
from hotline.domain.facts import NONE
from hotline.domain.limits import DECIDED, LimitStatus
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def decided(f: Facts) -> Days:
    """The day each complaint was accepted or declined (NONE: neither yet)."""
    found: Days = np.where(f.t.accepted != NONE, f.t.accepted, f.t.declined)
    return found


def counted(f: Facts) -> Flags:
    in_period = f.within(f.limits.acceptance_due) | f.within(decided(f))
    return in_period & np.isin(f.limits.acceptance_status, DECIDED)


def decided_late(f: Facts, row: int) -> str:
    on = decided(f)[row]
    if on == NONE:
        return f"never accepted or declined, due {day(f.limits.acceptance_due[row])}"
    return (
        f"accepted or declined on working day {f.limits.acceptance_day[row]} "
        f"({day(on)}), due {day(f.limits.acceptance_due[row])}"
    )


def open_late(f: Facts, row: int) -> str:
    return f"not accepted or declined yet, due {day(f.limits.acceptance_due[row])}"


METRIC = Metric(
    key="on_time_acceptance",
    label="按时受理率",
    title="on-time acceptance",
    position=32,
    numerator=lambda f: f.limits.acceptance_status == LimitStatus.MET,
    denominator=counted,
    shortfalls=(
        Shortfall(lambda f: f.limits.acceptance_status == LimitStatus.MISSED, decided_late),
        Shortfall(lambda f: f.limits.acceptance_status == LimitStatus.OVERDUE, open_late),
    ),
)
