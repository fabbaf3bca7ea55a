"""重复工单 repeat orders: orders received in the period that repeat an earlier one
(hotline-2023: 46 → 7)."""

from hotline.domain.metrics import Facts, Metric, Shortfall, day


def repeated(f: Facts, row: int) -> str:
    return f"received on {day(f.t.received[row])} as a repeat of an earlier order"


METRIC = Metric(
    key="repeat_orders",
    label="重复工单",
    title="repeat orders",
    position=70,
    numerator=lambda f: f.within(f.t.received) & f.orders.repeat,
    unit="",
    decimals=0,
    shortfalls=(Shortfall(lambda f: f.within(f.t.received) & f.orders.repeat, repeated),),
)
