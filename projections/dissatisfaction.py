"""不满意度 dissatisfaction: ratings 不满意 ÷ ratings given in the period, excluded
ones left out (seed 003's target: at most 10%)."""

from hotline.domain.metrics import UNSET, Facts, Flags, Metric, Shortfall, day
from hotline.domain.vocabulary import Rating

DISSATISFIED = Rating.DISSATISFIED.code


def counted(f: Facts) -> Flags:
    return f.within(f.orders.rated) & (f.orders.rating != UNSET) & ~f.orders.rating_excluded


def dissatisfied(f: Facts, row: int) -> str:
    return f"rated dissatisfied (不满意) on {day(f.orders.rated[row])}"


METRIC = Metric(
    key="dissatisfaction",
    label="不满意度",
    title="dissatisfaction",
    position=65,
    numerator=lambda f: f.orders.rating == DISSATISFIED,
    denominator=counted,
    shortfalls=(Shortfall(lambda f: f.orders.rating == DISSATISFIED, dissatisfied),),
)
