"""督办有责 supervised at fault: orders the hotline supervised (督办) in the period and
found the unit at fault (督办认定处理部门有责, standard-2017 Ⅵ-8-5 2(1))."""

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def chosen(f: Facts) -> Flags:
    s = f.orders.supervisions
    found: Flags = s.at_fault & f.within(s.day)
    return found


def at_fault(f: Facts) -> Flags:
    return f.any_of(f.orders.supervisions.order, chosen(f))


def supervised(f: Facts, row: int) -> str:
    s = f.orders.supervisions
    days = sorted({str(day(d)) for d in s.day[chosen(f) & (s.order == row)]})
    return f"supervised on {', '.join(days)}: unit found at fault (督办有责)"


METRIC = Metric(
    key="supervised_at_fault",
    label="督办有责",
    title="supervised at fault",
    position=80,
    numerator=at_fault,
    unit="",
    decimals=0,
    shortfalls=(Shortfall(at_fault, supervised),),
)
