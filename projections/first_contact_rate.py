"""先行联系率 first-contact rate: orders contacted within 1 working day ÷ orders
needing contact whose limit fell in the period and is decided (an order returned
in time, or whose citizen asked for no reply, needs none)."""

import numpy as np

from hotline.domain.limits import DECIDED, LimitStatus
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def due_in_period(f: Facts) -> Flags:
    return f.within(f.limits.contact_due) & np.isin(f.limits.contact_status, DECIDED)


def late(f: Facts) -> Flags:
    return f.limits.contact_status == LimitStatus.MISSED


def late_reason(f: Facts, row: int) -> str:
    if f.t.contact[row]:
        return (
            f"contacted on working day {f.limits.contact_day[row]} "
            f"({day(f.t.contact[row])}), due {day(f.limits.contact_due[row])}"
        )
    return f"never contacted, due {day(f.limits.contact_due[row])}"


def overdue(f: Facts) -> Flags:
    return f.limits.contact_status == LimitStatus.OVERDUE


def overdue_reason(f: Facts, row: int) -> str:
    return f"not contacted yet, due {day(f.limits.contact_due[row])}"


METRIC = Metric(
    key="first_contact_rate",
    label="先行联系率",
    title="first-contact rate",
    position=20,
    numerator=lambda f: f.limits.contact_status == LimitStatus.MET,
    denominator=due_in_period,
    shortfalls=(Shortfall(late, late_reason), Shortfall(overdue, overdue_reason)),
)
