"""实际解决率 resolution rate: resolved ÷ (resolved + explained + unresolved), over the
orders closed in the period (不属实 ones aside)."""

import numpy as np

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall
from hotline.domain.vocabulary import ClosingResult

JUDGED = [
    r.code for r in (ClosingResult.RESOLVED, ClosingResult.EXPLAINED, ClosingResult.UNRESOLVED)
]


def judged(f: Facts) -> Flags:
    return f.within(f.t.closed) & np.isin(f.orders.result, JUDGED)


def not_resolved(f: Facts, row: int) -> str:
    result = list(ClosingResult)[f.orders.result[row]]
    return f"closed as {result.value} ({result.label})"


METRIC = Metric(
    key="resolution_rate",
    label="实际解决率",
    title="resolution rate",
    position=50,
    numerator=lambda f: f.orders.result == ClosingResult.RESOLVED.code,
    denominator=judged,
    shortfalls=(Shortfall(lambda f: f.orders.result != ClosingResult.RESOLVED.code, not_resolved),),
)
