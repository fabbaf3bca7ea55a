"""按时退单率 timely-return rate: out-of-jurisdiction returns made within 1 working
day ÷ out-of-jurisdiction returns made in the period (a rejected return is not one)."""

import numpy as np

from hotline.domain.limits import LimitStatus
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def decided(f: Facts) -> Flags:
    done = np.isin(f.limits.return_status, [LimitStatus.MET, LimitStatus.MISSED])
    return f.within(f.t.returned) & done


def late(f: Facts, row: int) -> str:
    return (
        f"returned out of jurisdiction on working day {f.limits.return_day[row]} "
        f"({day(f.t.returned[row])}), due {day(f.limits.return_due[row])}"
    )


METRIC = Metric(
    key="timely_return_rate",
    label="按时退单率",
    title="timely-return rate",
    position=45,
    numerator=lambda f: f.limits.return_status == LimitStatus.MET,
    denominator=decided,
    shortfalls=(Shortfall(lambda f: f.limits.return_status == LimitStatus.MISSED, late),),
)
