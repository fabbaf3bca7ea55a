"""回访不符 revisit inconsistent: orders whose revisit (回访) in the period found the
handling, the facts or the result not as the unit reported them (standard-2017 Ⅵ-8-5
3(2))."""

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def chosen(f: Facts) -> Flags:
    r = f.orders.revisits
    found: Flags = ~r.consistent & f.within(r.day)
    return found


def inconsistent(f: Facts) -> Flags:
    return f.any_of(f.orders.revisits.order, chosen(f))


def revisited(f: Facts, row: int) -> str:
    r = f.orders.revisits
    days = sorted({str(day(d)) for d in r.day[chosen(f) & (r.order == row)]})
    return f"revisited on {', '.join(days)}: result not as reported (与上报不符)"


METRIC = Metric(
    key="revisit_inconsistent",
    label="回访不符",
    title="revisit inconsistent",
    position=90,
    numerator=inconsistent,
    unit="",
    decimals=0,
    shortfalls=(Shortfall(inconsistent, revisited),),
)
