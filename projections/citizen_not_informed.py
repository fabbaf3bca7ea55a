"""未告知办理结果 citizen not informed: orders closed in the period without the unit
telling the citizen the result, unless the citizen asked for no reply (standard-2017
Ⅵ-8-5 3(1))."""

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day


def not_informed(f: Facts) -> Flags:
    found: Flags = f.within(f.t.closed) & ~f.orders.citizen_informed & ~f.t.no_reply_requested
    return found


def closed_uninformed(f: Facts, row: int) -> str:
    return f"closed on {day(f.t.closed[row])} without informing the citizen of the result"


METRIC = Metric(
    key="citizen_not_informed",
    label="未告知结果",
    title="citizen not informed",
    position=85,
    numerator=not_informed,
    unit="",
    decimals=0,
    shortfalls=(Shortfall(not_informed, closed_uninformed),),
)
