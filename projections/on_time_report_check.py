"""举报按时核查率 on-time report check (12315): reports checked and their case decided
(立案决定) within 15 working days of receipt, 30 with an extension applied for within the 15,
÷ reports whose limit fell in the period or that were decided in it; an open report past
its limit, undecided, counts as late."""

import numpy as np

from hotline.domain.facts import NONE
from hotline.domain.limits import DECIDED, LimitStatus
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def counted(f: Facts) -> Flags:
    in_period = f.within(f.limits.report_check_due) | f.within(f.t.case_decided)
    return in_period & np.isin(f.limits.report_check_status, DECIDED)


def decided_late(f: Facts, row: int) -> str:
    if f.t.case_decided[row] == NONE:
        return f"no case decision, due {day(f.limits.report_check_due[row])}"
    return (
        f"case decided on working day {f.limits.report_check_day[row]} "
        f"({day(f.t.case_decided[row])}), due {day(f.limits.report_check_due[row])}"
    )


def open_late(f: Facts, row: int) -> str:
    return f"no case decision yet, due {day(f.limits.report_check_due[row])}"


METRIC = Metric(
    key="on_time_report_check",
    label="举报按时核查率",
    title="on-time report check",
    position=34,
    numerator=lambda f: f.limits.report_check_status == LimitStatus.MET,
    denominator=counted,
    shortfalls=(
        Shortfall(lambda f: f.limits.report_check_status == LimitStatus.MISSED, decided_late),
        Shortfall(lambda f: f.limits.report_check_status == LimitStatus.OVERDUE, open_late),
    ),
)
