"""回访评价差 poor evaluations: orders whose revisit (回访) in the period had the
citizen's overall evaluation 差 (standard-2017 Ⅵ-8-5 3(3))."""

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day
from hotline.domain.vocabulary import Evaluation


def chosen(f: Facts) -> Flags:
    r = f.orders.revisits
    found: Flags = (r.evaluation == Evaluation.POOR.code) & f.within(r.day)
    return found


def poor(f: Facts) -> Flags:
    return f.any_of(f.orders.revisits.order, chosen(f))


def evaluated(f: Facts, row: int) -> str:
    r = f.orders.revisits
    days = sorted({str(day(d)) for d in r.day[chosen(f) & (r.order == row)]})
    return f"revisited on {', '.join(days)}: evaluation poor (差)"


METRIC = Metric(
    key="revisit_poor",
    label="评价差",
    title="poor evaluations",
    position=95,
    numerator=poor,
    unit="",
    decimals=0,
    shortfalls=(Shortfall(poor, evaluated),),
)
