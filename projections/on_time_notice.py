"""按时告知率 on-time notice (12315, SAMR Order No. 20): orders whose notices (告知) were all
given in time ÷ orders with a notice whose limit fell in the period or that was given in
it. The notices: a complainant told of the acceptance decision within 7 working days of
receipt; the parties told of a terminated mediation within 7 of it; a reporter who left a
phone told of the case decision within 5 of it. A notice owed and not given by its limit,
the order open, counts as late."""

import numpy as np

from hotline.domain.calendar import Days
from hotline.domain.facts import NONE
from hotline.domain.limits import DECIDED, LimitStatus
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def notices(f: Facts) -> list[tuple[str, Days, Days, Days]]:
    """Each notice: (what it tells, status, due, the day it was given)."""
    c, t = f.limits, f.t
    return [
        ("the acceptance decision", c.acceptance_notice_status, c.acceptance_notice_due,
         t.acceptance_notified),
        ("the terminated mediation", c.termination_notice_status, c.termination_notice_due,
         t.mediation_notified),
        ("the case decision", c.report_notice_status, c.report_notice_due, t.case_notified),
    ]  # fmt: skip


def in_period(f: Facts, status: Days, due: Days, given: Days) -> Flags:
    found: Flags = (f.within(due) | f.within(given)) & np.isin(status, DECIDED)
    return found


def counted(f: Facts) -> Flags:
    found = np.zeros(len(f.t.received), dtype=bool)
    for _, status, due, given in notices(f):
        found |= in_period(f, status, due, given)
    return found


def all_in_time(f: Facts) -> Flags:
    late = np.zeros(len(f.t.received), dtype=bool)
    for _, status, due, given in notices(f):
        late |= in_period(f, status, due, given) & (status != LimitStatus.MET)
    found: Flags = ~late
    return found


def late(f: Facts) -> Flags:
    return ~all_in_time(f)


def late_reason(f: Facts, row: int) -> str:
    reasons = []
    for told, status, due, given in notices(f):
        if not in_period(f, status, due, given)[row] or status[row] == LimitStatus.MET:
            continue
        if given[row] != NONE:
            reasons.append(f"told of {told} on {day(given[row])}, due {day(due[row])}")
        else:
            reasons.append(f"not told of {told}, due {day(due[row])}")
    return "; ".join(reasons)


METRIC = Metric(
    key="on_time_notice",
    label="按时告知率",
    title="on-time notice",
    position=36,
    numerator=all_in_time,
    denominator=counted,
    shortfalls=(Shortfall(late, late_reason),),
)
