"""二次退回 rejected returns: orders returned in the period whose return the hotline
sent back, so the unit had to handle them after all (standard-2017 Ⅵ-8-5 2(3))."""

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def rejected(f: Facts) -> Flags:
    found: Flags = f.within(f.t.returned) & f.t.return_rejected
    return found


def sent_back(f: Facts, row: int) -> str:
    return f"returned on {day(f.t.returned[row])}, the return rejected (二次退回)"


METRIC = Metric(
    key="rejected_returns",
    label="二次退回",
    title="rejected returns",
    position=75,
    numerator=rejected,
    unit="",
    decimals=0,
    shortfalls=(Shortfall(rejected, sent_back),),
)
