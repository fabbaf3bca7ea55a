"""退单率 return rate: orders received in the period that the unit returned (退单)."""

from hotline.domain.facts import NONE
from hotline.domain.metrics import Facts, Metric, Shortfall, day


def returned(f: Facts, row: int) -> str:
    rejected = "; the hotline rejected the return (二次退回)" if f.t.return_rejected[row] else ""
    return f"returned on {day(f.t.returned[row])}{rejected}"


METRIC = Metric(
    key="return_rate",
    label="退单率",
    title="return rate",
    position=40,
    numerator=lambda f: f.t.returned != NONE,
    denominator=lambda f: f.within(f.t.received),
    shortfalls=(Shortfall(lambda f: f.t.returned != NONE, returned),),
)
