"""按时办结率 on-time rate: orders closed within their limit (1·5·13, or a timely
extension's promised date) ÷ orders whose limit fell in the period or that closed
in it; an open order past its limit counts as late."""

import numpy as np

from hotline.domain.limits import DECIDED, LimitStatus
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def counted(f: Facts) -> Flags:
    in_period = f.within(f.limits.close_due) | f.within(f.t.closed)
    return in_period & np.isin(f.limits.close_status, DECIDED)


def closed_late(f: Facts, row: int) -> str:
    return (
        f"closed on working day {f.limits.close_day[row]} ({day(f.t.closed[row])}), "
        f"due {day(f.limits.close_due[row])}"
    )


def open_late(f: Facts, row: int) -> str:
    return f"still open, due {day(f.limits.close_due[row])}"


METRIC = Metric(
    key="on_time_rate",
    label="按时办结率",
    title="on-time rate",
    position=30,
    numerator=lambda f: f.limits.close_status == LimitStatus.MET,
    denominator=counted,
    shortfalls=(
        Shortfall(lambda f: f.limits.close_status == LimitStatus.MISSED, closed_late),
        Shortfall(lambda f: f.limits.close_status == LimitStatus.OVERDUE, open_late),
    ),
)
