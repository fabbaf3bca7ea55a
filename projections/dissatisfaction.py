"""不满意度 dissatisfaction: ratings 不满意 ÷ ratings given in the period, excluded
ones left out (hotline-2023's target: at most 10%)."""

from hotline.domain.metrics import Facts, Metric, Shortfall, day
from hotline.domain.vocabulary import Rating

DISSATISFIED = Rating.DISSATISFIED.code


def dissatisfied(f: Facts, row: int) -> str:
    return f"rated dissatisfied (不满意) on {day(f.orders.rated[row])}"


METRIC = Metric(
    key="dissatisfaction",
    label="不满意度",
    title="dissatisfaction",
    position=65,
    numerator=lambda f: f.orders.rating == DISSATISFIED,
    denominator=Facts.counted_ratings,
    shortfalls=(Shortfall(lambda f: f.orders.rating == DISSATISFIED, dissatisfied),),
)
