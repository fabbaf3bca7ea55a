"""受理数量 volume: orders received in the period, not counting orders returned
(退单) whose return stood ("不含退单", domain.md §6)."""

from hotline.domain.facts import StatusCode
from hotline.domain.metrics import Facts, Flags, Metric


def received_and_kept(f: Facts) -> Flags:
    return f.within(f.t.received) & (f.t.status != StatusCode.RETURNED)


METRIC = Metric(
    key="volume",
    label="受理数量",
    title="volume",
    position=10,
    numerator=received_and_kept,
    unit="",
    decimals=0,
)
