"""不属实率 unsubstantiated rate: orders closed as unsubstantiated ÷ orders closed in
the period (hotline-2023 tracks it: 76.7% → 61.39%)."""

from hotline.domain.facts import NONE
from hotline.domain.metrics import Facts, Metric, Shortfall, day
from hotline.domain.vocabulary import ClosingResult

UNSUBSTANTIATED = ClosingResult.UNSUBSTANTIATED.code


def closed_unsubstantiated(f: Facts, row: int) -> str:
    return f"closed as unsubstantiated (不属实) on {day(f.t.closed[row])}"


METRIC = Metric(
    key="unsubstantiated_rate",
    label="不属实率",
    title="unsubstantiated rate",
    position=55,
    numerator=lambda f: f.orders.result == UNSUBSTANTIATED,
    denominator=lambda f: f.within(f.t.closed) & (f.t.closed != NONE),
    shortfalls=(Shortfall(lambda f: f.orders.result == UNSUBSTANTIATED, closed_unsubstantiated),),
)
