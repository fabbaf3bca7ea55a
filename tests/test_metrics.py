"""The metrics of domain.md §6 on small hand-made cases, through the application service
and the reports, with every expected number worked out by hand in the comments.

Working days used below (the official 2026 calendar): Spring Festival is off
2026-02-15 … 02-23, and Saturday 2026-02-14 is a make-up workday, so for an order
received Friday 2026-02-13 day 1 is Sat 02-14 and day 2 is Tue 02-24, while for one
received on the holiday Monday 02-16 day 1 is 02-24. For an order received Monday
2026-03-02, day 4 is Fri 03-06, day 5 Mon 03-09, day 13 Thu 03-19, day 14 Fri 03-20,
day 18 Thu 03-26, day 19 Fri 03-27 and day 20 Mon 03-30.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hotline.adapters.rubric_files import load_metrics, projections_dir
from hotline.domain.aggregate import SHANGHAI, now
from hotline.domain.errors import DataFileError
from hotline.domain.limits import Limits, Timelines
from hotline.domain.metrics import UNSET, Facts, MetricValue, OrderColumns, compute
from hotline.domain.periods import Period, date_range, parse_period
from hotline.domain.vocabulary import Rating
from hotline.service.application import HotlineApplication
from hotline.service.reports import Reports

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
SONGJIANG = "松江区市场监管局"
JIADING = "嘉定区市场监管局"
MINHANG_COUNCIL = "闵行区消保委"


def at(text: str) -> datetime:
    """`2026-03-02 10:00` in Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def receive(
    app: HotlineApplication,
    number: str,
    when: str,
    unit: str = MINHANG,
    kind: str = "complaint",
    channel: str = "12345",
    **fields: Any,
) -> None:
    app.receive(number, unit=unit, at=at(when), kind=kind, channel=channel, **fields)


def log(app: HotlineApplication, number: str, event: str, when: str, **fields: Any) -> None:
    app.record(number, event, at=at(when), **fields)


def close(app: HotlineApplication, number: str, when: str, result: str = "resolved") -> None:
    log(app, number, "closed", when, result=result)


def rates(
    app: HotlineApplication, period: str | Period, unit: str = MINHANG
) -> dict[str, MetricValue]:
    chosen = parse_period(period) if isinstance(period, str) else period
    (row,) = Reports(app, app.readmodel).rates(chosen, unit=unit).rows
    return row.values


def triple(value: MetricValue) -> tuple[float, int | None, float | None]:
    shown = None if value.value is None else round(value.value, 2)
    return value.numerator, value.denominator, shown


def findings(app: HotlineApplication, period: str, metric: str) -> list[tuple[str, str]]:
    """(order, reason) of the orders behind `metric`, sorted by order number."""
    found = Reports(app, app.readmodel).explain(parse_period(period), MINHANG, metric)
    return sorted((f.number, f.reason) for f in found)


# Volume 受理数量


def test_volume_leaves_out_returns_that_stood(app: HotlineApplication) -> None:
    receive(app, "V1", "2026-03-02 10:00")  # open: counted
    receive(app, "V2", "2026-03-02 10:00")  # returned, not rejected: not counted
    log(app, "V2", "returned", "2026-03-03 09:00", reason="非本单位职责", out_of_jurisdiction=True)
    receive(app, "V3", "2026-03-02 10:00")  # returned, rejected (二次退回): counted
    log(app, "V3", "returned", "2026-03-03 09:00", reason="非本单位职责")
    log(app, "V3", "return_rejected", "2026-03-04 09:00")
    receive(app, "V4", "2026-03-02 10:00")  # returned, rejected, closed: counted
    log(app, "V4", "returned", "2026-03-03 09:00", reason="非本单位职责")
    log(app, "V4", "return_rejected", "2026-03-04 09:00")
    close(app, "V4", "2026-03-10 16:00")
    receive(app, "V5", "2026-02-27 10:00")  # received in February
    receive(app, "V6", "2026-04-01 10:00")  # received in April
    receive(app, "V7", "2026-03-31 23:30")  # the last evening of March: counted
    assert triple(rates(app, "2026-03")["volume"]) == (4.0, None, 4.0)
    assert triple(rates(app, "2026-04")["volume"]) == (1.0, None, 1.0)
    assert triple(rates(app, "2026-02")["volume"]) == (1.0, None, 1.0)


# First-contact rate 先行联系率


def first_contact_cases(app: HotlineApplication) -> None:
    # F1: received on the Spring Festival holiday, contacted on its day 1: met.
    receive(app, "F1", "2026-02-16 10:00")
    log(app, "F1", "first_contact", "2026-02-24 09:00", method="phone")
    # F2: received Friday, contacted on the first day after the holiday = day 2: missed.
    receive(app, "F2", "2026-02-13 10:00")
    log(app, "F2", "first_contact", "2026-02-24 09:00", method="phone")
    # F3: returned out of jurisdiction on day 1 (the make-up Saturday): needs no contact.
    receive(app, "F3", "2026-02-13 10:00")
    log(app, "F3", "returned", "2026-02-14 09:00", reason="非本单位职责", out_of_jurisdiction=True)
    # F4: the citizen asked for no reply: needs no contact.
    receive(app, "F4", "2026-02-13 10:00")
    log(app, "F4", "closed", "2026-02-26 16:00", result="explained", no_reply_requested=True)
    # F5: contacted on the make-up Saturday, day 1: met.
    receive(app, "F5", "2026-02-13 10:00")
    log(app, "F5", "first_contact", "2026-02-14 11:00")
    # F6: open and never contacted, due Thu 02-26: overdue, counts against.
    receive(app, "F6", "2026-02-25 10:00")
    # F7: returned out of jurisdiction late (day 2), never contacted: missed.
    receive(app, "F7", "2026-02-13 10:00")
    log(app, "F7", "returned", "2026-02-24 09:00", reason="非本单位职责", out_of_jurisdiction=True)
    # F8: closed without contact, a reply was wanted: missed.
    receive(app, "F8", "2026-02-13 10:00")
    close(app, "F8", "2026-02-26 16:00")
    # F9: received Tue 02-24, contacted Wed 02-25 (day 1): met.
    receive(app, "F9", "2026-02-24 09:00")
    log(app, "F9", "first_contact", "2026-02-25 09:00")
    # F10: contacted the day it was received (day 0): met.
    receive(app, "F10", "2026-02-26 10:00")
    log(app, "F10", "first_contact", "2026-02-26 11:00")


def test_first_contact_rate(app: HotlineApplication) -> None:
    first_contact_cases(app)
    # met: F1 F5 F9 F10; counted: those and F2 F6 F7 F8; F3 and F4 need none.
    assert triple(rates(app, "2026-02")["first_contact_rate"]) == (4.0, 8, 50.0)
    # Every contact limit above fell in February.
    assert triple(rates(app, "2026-03")["first_contact_rate"]) == (0.0, 0, None)


def test_explain_names_the_orders_that_cost_the_first_contact_rate(
    app: HotlineApplication,
) -> None:
    first_contact_cases(app)
    assert findings(app, "2026-02", "first_contact_rate") == [
        ("F2", "contacted on working day 2 (2026-02-24), due 2026-02-14"),
        ("F6", "not contacted yet, due 2026-02-26"),
        ("F7", "never contacted, due 2026-02-14"),
        ("F8", "never contacted, due 2026-02-14"),
    ]


def test_explain_through_the_cli(app: HotlineApplication, cli: Cli) -> None:
    first_contact_cases(app)
    code, out, err = cli(
        "report", "explain", "--unit", MINHANG, "--period", "2026-02",
        "--metric", "first_contact_rate", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert sorted((r["order"], r["label"]) for r in rows) == [
        ("F2", "先行联系率"),
        ("F6", "先行联系率"),
        ("F7", "先行联系率"),
        ("F8", "先行联系率"),
    ]
    (f2,) = [r for r in rows if r["order"] == "F2"]
    assert "working day 2" in f2["reason"]
    code, _, err = cli("report", "explain", "--unit", MINHANG, "--period", "2026-02",
                       "--metric", "speed")  # fmt: skip
    assert code == 1 and "unknown metric 'speed'" in err and "first_contact_rate" in err


def test_every_first_contact_limit_is_counted_in_the_month_it_falls_in(
    app: HotlineApplication,
) -> None:
    # Received Friday 2026-01-30, contacted and closed that day: due Monday 02-02 (met).
    receive(app, "M1", "2026-01-30 10:00", kind="consultation")
    log(app, "M1", "first_contact", "2026-01-30 10:30")
    close(app, "M1", "2026-01-30 15:00", result="explained")
    assert triple(rates(app, "2026-01")["first_contact_rate"]) == (0.0, 0, None)
    assert triple(rates(app, "2026")["first_contact_rate"]) == (1.0, 1, 100.0)
    assert triple(rates(app, "2026-02")["first_contact_rate"]) == (1.0, 1, 100.0)


# On-time rate 按时办结率


def on_time_cases(app: HotlineApplication) -> None:
    for number in ("T1", "T2", "T3", "T4", "T5", "T6", "T9", "T11", "T12"):
        receive(app, number, "2026-03-02 10:00", channel="12315" if number == "T12" else "12345")
    close(app, "T1", "2026-03-19 16:00")  # day 13: met
    close(app, "T2", "2026-03-20 09:00")  # day 14: missed
    # Extended on day 10 to Fri 03-27; less the 12315 feedback day it is due Thu 03-26.
    for number, closed in (("T3", "2026-03-26 16:00"), ("T4", "2026-03-27 09:00")):
        log(app, number, "extended", "2026-03-16 09:00", until=date(2026, 3, 27), reason="现场核查")
        close(app, number, closed)  # T3 met, T4 (on the promised date itself) missed
    # Returned, the return refused (二次退回), then closed on day 6: met.
    log(app, "T5", "returned", "2026-03-03 09:00", reason="非本单位职责")
    log(app, "T5", "return_rejected", "2026-03-04 09:00")
    close(app, "T5", "2026-03-10 16:00")
    # T6: still open, due 03-19: late (overdue).
    # Revisit-review orders: 5 − 1 = 4 working days, due Fri 03-06.
    receive(app, "T7", "2026-03-02 10:00", kind="revisit_review")
    close(app, "T7", "2026-03-06 16:00")  # day 4: met
    receive(app, "T8", "2026-03-02 10:00", kind="revisit_review")
    close(app, "T8", "2026-03-09 09:00")  # day 5: missed
    # T9: returned out of jurisdiction and the return stood: no close limit.
    log(app, "T9", "returned", "2026-03-03 09:00", reason="非本单位职责", out_of_jurisdiction=True)
    # T10: received late in March, still open: due in April, not in March's numbers.
    receive(app, "T10", "2026-03-25 10:00")
    # T11: extension applied for on day 14 (too late, not counted): due 03-19, closed day 20.
    log(app, "T11", "extended", "2026-03-20 09:00", until=date(2026, 3, 31), reason="现场核查")
    close(app, "T11", "2026-03-30 16:00")
    # T12: a 12315 complaint closed on day 1: met.
    close(app, "T12", "2026-03-03 16:00")


def test_on_time_rate(app: HotlineApplication) -> None:
    on_time_cases(app)
    # met: T1 T3 T5 T7 T12; late: T2 T4 T6 T8 T11; T9 and T10 not counted.
    assert triple(rates(app, "2026-03")["on_time_rate"]) == (5.0, 10, 50.0)
    assert findings(app, "2026-03", "on_time_rate") == [
        ("T11", "closed on working day 20 (2026-03-30), due 2026-03-19"),
        ("T2", "closed on working day 14 (2026-03-20), due 2026-03-19"),
        ("T4", "closed on working day 19 (2026-03-27), due 2026-03-26"),
        ("T6", "still open, due 2026-03-19"),
        ("T8", "closed on working day 5 (2026-03-09), due 2026-03-06"),
    ]


def test_an_open_order_past_its_limit_is_late_in_the_period_its_limit_fell_in(
    app: HotlineApplication,
) -> None:
    on_time_cases(app)
    # T10 (received 03-25, open) was due in April: the only order counted there, late.
    assert triple(rates(app, "2026-04")["on_time_rate"]) == (0.0, 1, 0.0)
    assert findings(app, "2026-04", "on_time_rate") == [("T10", "still open, due 2026-04-14")]


# Return rate 退单率 and timely-return rate 按时退单率


def test_return_rate_and_timely_return_rate(app: HotlineApplication) -> None:
    for number in [f"R{i}" for i in range(1, 11)]:
        receive(app, number, "2026-03-02 10:00")
    oj = {"reason": "非本单位职责", "out_of_jurisdiction": True}
    log(app, "R1", "returned", "2026-03-03 09:00", **oj)  # day 1: in time
    log(app, "R2", "returned", "2026-03-04 09:00", **oj)  # day 2: late
    log(app, "R3", "returned", "2026-03-03 09:00", reason="不属实")  # not out of jurisdiction,
    log(app, "R3", "return_rejected", "2026-03-04 09:00")  # rejected,
    close(app, "R3", "2026-03-10 16:00")  # then closed
    log(app, "R4", "returned", "2026-03-03 09:00", **oj)  # out of jurisdiction, in time,
    log(app, "R4", "return_rejected", "2026-03-05 09:00")  # but the hotline refused it
    log(app, "R6", "returned", "2026-03-03 09:00", reason="重复派单")  # stood, not o.o.j.
    close(app, "R5", "2026-03-05 16:00")
    values = rates(app, "2026-03")
    # returned: R1 R2 R3 R4 R6 of the 10 received.
    assert triple(values["return_rate"]) == (5.0, 10, 50.0)
    # out-of-jurisdiction returns that stood: R1 (in time) and R2 (late).
    assert triple(values["timely_return_rate"]) == (1.0, 2, 50.0)
    # volume: 10 received less the returns that stood (R1 R2 R6).
    assert triple(values["volume"]) == (7.0, None, 7.0)
    assert findings(app, "2026-03", "timely_return_rate") == [
        ("R2", "returned out of jurisdiction on working day 2 (2026-03-04), due 2026-03-03")
    ]
    assert findings(app, "2026-03", "return_rate") == [
        ("R1", "returned on 2026-03-03"),
        ("R2", "returned on 2026-03-04"),
        ("R3", "returned on 2026-03-03; the hotline rejected the return (二次退回)"),
        ("R4", "returned on 2026-03-03; the hotline rejected the return (二次退回)"),
        ("R6", "returned on 2026-03-03"),
    ]


# Resolution rate 实际解决率 and unsubstantiated rate 不属实率


def test_resolution_and_unsubstantiated_rates(app: HotlineApplication) -> None:
    results = {
        "S1": "resolved",
        "S2": "实际解决",
        "S3": "explained",
        "S4": "unresolved",
        "S5": "unsubstantiated",
    }
    for number, result in results.items():
        receive(app, number, "2026-03-02 10:00")
        close(app, number, "2026-03-10 16:00", result)
    receive(app, "S6", "2026-02-02 10:00")  # closed in February: not March's
    close(app, "S6", "2026-02-10 16:00", "unresolved")
    receive(app, "S7", "2026-03-20 10:00")  # closed in April: not March's
    close(app, "S7", "2026-04-02 16:00", "unsubstantiated")
    receive(app, "S8", "2026-03-02 10:00")  # still open
    values = rates(app, "2026-03")
    # resolved S1 S2 ÷ (resolved + explained + unresolved) S1–S4; S5 left out.
    assert triple(values["resolution_rate"]) == (2.0, 4, 50.0)
    # unsubstantiated S5 ÷ closed S1–S5.
    assert triple(values["unsubstantiated_rate"]) == (1.0, 5, 20.0)
    assert findings(app, "2026-03", "resolution_rate") == [
        ("S3", "closed as explained (解释说明)"),
        ("S4", "closed as unresolved (未解决)"),
    ]
    april = rates(app, "2026-04")
    assert triple(april["resolution_rate"]) == (0.0, 0, None)
    assert triple(april["unsubstantiated_rate"]) == (1.0, 1, 100.0)


# Satisfaction 满意度, dissatisfaction 不满意度, repeat orders 重复工单


def test_satisfaction_and_dissatisfaction(app: HotlineApplication) -> None:
    ratings = [
        ("P1", "satisfied", False),
        ("P2", "基本满意", False),
        ("P3", "average", False),
        ("P4", "dissatisfied", False),
        ("P5", "dissatisfied", True),  # 客观件: left out
        ("P6", "satisfied", True),  # left out
    ]
    for number, rating, excluded in ratings:
        receive(app, number, "2026-03-02 10:00")
        close(app, number, "2026-03-10 16:00")
        log(app, number, "rated", "2026-03-12 10:00", rating=rating, excluded=excluded)
    receive(app, "P7", "2026-03-02 10:00")  # rated in April: not March's
    close(app, "P7", "2026-03-10 16:00")
    log(app, "P7", "rated", "2026-04-02 10:00", rating="dissatisfied")
    receive(app, "P8", "2026-03-02 10:00")  # closed, never rated
    close(app, "P8", "2026-03-10 16:00")
    values = rates(app, "2026-03")
    # (100 + 80 + 60 + 0) ÷ 4 = 60
    assert triple(values["satisfaction"]) == (240.0, 4, 60.0)
    assert triple(values["dissatisfaction"]) == (1.0, 4, 25.0)
    april = rates(app, "2026-04")
    assert triple(april["satisfaction"]) == (0.0, 1, 0.0)
    assert triple(april["dissatisfaction"]) == (1.0, 1, 100.0)
    assert findings(app, "2026-03", "satisfaction") == [
        ("P2", "rated basically_satisfied (基本满意, 80 points) on 2026-03-12"),
        ("P3", "rated average (一般, 60 points) on 2026-03-12"),
        ("P4", "rated dissatisfied (不满意, 0 points) on 2026-03-12"),
    ]
    assert findings(app, "2026-03", "dissatisfaction") == [
        ("P4", "rated dissatisfied (不满意) on 2026-03-12")
    ]


def test_repeat_orders(app: HotlineApplication) -> None:
    receive(app, "Q1", "2026-03-02 10:00")
    receive(app, "Q2", "2026-03-05 10:00", repeat_of="Q1")
    receive(app, "Q3", "2026-04-01 10:00", repeat_of="Q1")
    receive(app, "Q4", "2026-04-02 10:00")
    assert triple(rates(app, "2026-03")["repeat_orders"]) == (1.0, None, 1.0)
    assert triple(rates(app, "2026-04")["repeat_orders"]) == (1.0, None, 1.0)
    assert findings(app, "2026-03", "repeat_orders") == [
        ("Q2", "received on 2026-03-05 as a repeat of an earlier order")
    ]


def _zeros(n: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.zeros(n, dtype=np.int64)


def test_seed_001_satisfaction_is_84_81() -> None:
    """review-2019: 7984 满意 / 1138 基本满意 / 526 一般 / 1211 不满意 → 84.81; 300 excluded
    不满意 ratings change nothing."""
    (metric,) = [m for m in load_metrics(projections_dir()) if m.key == "satisfaction"]
    counts = [
        (Rating.SATISFIED, 7984),
        (Rating.BASICALLY_SATISFIED, 1138),
        (Rating.AVERAGE, 526),
        (Rating.DISSATISFIED, 1211),
        (Rating.DISSATISFIED, 300),
    ]
    rating = np.concatenate([np.full(n, r.code, dtype=np.int64) for r, n in counts])
    excluded = np.zeros(rating.size, dtype=bool)
    excluded[-300:] = True
    n = rating.size + 5
    rating = np.concatenate([rating, np.full(5, UNSET, dtype=np.int64)])  # closed, not rated
    excluded = np.concatenate([excluded, np.zeros(5, dtype=bool)])
    day = date(2019, 6, 3).toordinal()
    # Nothing but the ratings matters to this metric: every other column is zero.
    timelines = Timelines(**{f.name: _zeros(n) for f in fields(Timelines)})
    limits = Limits(**{f.name: _zeros(n) for f in fields(Limits)})
    orders = OrderColumns(
        numbers=[f"S-{i}" for i in range(n)], units=["x"] * n, districts=[None] * n,
        timelines=timelines,
        repeat=np.zeros(n, dtype=bool), result=_zeros(n), citizen_informed=np.ones(n, bool),
        rating=rating, rating_excluded=excluded, rated=np.full(n, day, dtype=np.int64),
        mediation_outcome=np.full(n, UNSET, dtype=np.int64), recovered_fen=_zeros(n),
    )  # fmt: skip
    year = parse_period("2019")
    facts = Facts(orders, limits, year.start.toordinal(), year.end.toordinal())
    (value,) = compute(metric, facts, _zeros(n), 1)
    # (100·7984 + 80·1138 + 60·526) ÷ 10859 = 921000 ÷ 10859 = 84.8144…
    assert (value.numerator, value.denominator) == (921000.0, 10859)
    assert value.value is not None and round(value.value, 2) == 84.81
    assert metric.decimals == 2 and metric.unit == ""


# Units, groups and the system


def test_group_and_system_rows_sum_the_units(app: HotlineApplication) -> None:
    for number, unit in (("G1", MINHANG), ("G2", MINHANG), ("G3", SONGJIANG),
                         ("G4", MINHANG_COUNCIL), ("G5", SONGJIANG)):  # fmt: skip
        receive(app, number, "2026-03-02 10:00", unit=unit)
    log(app, "G1", "first_contact", "2026-03-03 09:00")  # met
    log(app, "G2", "first_contact", "2026-03-04 09:00")  # missed
    log(app, "G3", "first_contact", "2026-03-02 11:00")  # met
    log(app, "G5", "returned", "2026-03-03 09:00", reason="非本单位职责", out_of_jurisdiction=True)
    for number, rating in (("G1", "satisfied"), ("G3", "average"), ("G4", "dissatisfied")):
        close(app, number, "2026-03-10 16:00")
        log(app, number, "rated", "2026-03-11 10:00", rating=rating)
    found = Reports(app, app.readmodel).rates(parse_period("2026-03"))
    rows = {(row.level, row.name): row for row in found.rows}
    assert [row.level for row in found.rows].count("unit") == 66
    assert [row.level for row in found.rows].count("group") == 3
    assert found.rows[-1].level == "system"
    district = rows["group", "各区市场监管局、机场分局"].values
    council = rows["group", "各区消保委"].values
    system = rows["system", "system"].values
    # volume: G1 G2 G3 in the district group (G5's return stood), G4 in the council group.
    assert [triple(v["volume"]) for v in (district, council, system)] == [
        (3.0, None, 3.0), (1.0, None, 1.0), (4.0, None, 4.0)
    ]  # fmt: skip
    # first contact: G1 G3 met; G2 late; G4 closed, never contacted; G5 returned in time.
    assert triple(district["first_contact_rate"]) == (2.0, 3, 66.67)
    assert triple(council["first_contact_rate"]) == (0.0, 1, 0.0)
    assert triple(system["first_contact_rate"]) == (2.0, 4, 50.0)
    # satisfaction: (100 + 60) ÷ 2 in the district group, 0 ÷ 1 in the council group.
    assert triple(district["satisfaction"]) == (160.0, 2, 80.0)
    assert triple(system["satisfaction"]) == (160.0, 3, 53.33)
    for metric in found.metrics:
        for group in ("district", "municipal", "consumer_council"):
            units = [r.values[metric.key] for r in found.rows
                     if r.level == "unit" and r.group == group]  # fmt: skip
            (total,) = [r.values[metric.key] for r in found.rows
                        if r.level == "group" and r.group == group]  # fmt: skip
            assert total.numerator == sum(u.numerator for u in units), (metric.key, group)
            if metric.denominator is not None:
                assert total.denominator == sum(u.denominator or 0 for u in units)
        groups = [r.values[metric.key] for r in found.rows if r.level == "group"]
        assert system[metric.key].numerator == sum(g.numerator for g in groups), metric.key


def test_a_unit_with_no_orders_shows_no_rates(app: HotlineApplication, cli: Cli) -> None:
    receive(app, "N1", "2026-03-02 10:00")
    values = rates(app, "2026-03", unit=JIADING)
    assert triple(values["volume"]) == (0.0, None, 0.0)
    for key in ("first_contact_rate", "on_time_rate", "return_rate", "satisfaction"):
        assert triple(values[key]) == (0.0, 0, None), key
    code, out, err = cli("report", "rates", "--unit", JIADING, "--period", "2026-03")
    assert code == 0, err
    (line,) = [line for line in out.splitlines() if JIADING in line]
    assert line.count("—") == 13  # the 13 rates and scores; the counts shown as 0
    code, out, _ = cli("report", "rates", "--unit", JIADING, "--period", "2026-03",
                       "--format", "json")  # fmt: skip
    (row,) = json.loads(out)["rows"]
    assert row["volume"] == 0 and row["first_contact_rate"] is None
    assert row["first_contact_rate_denominator"] == 0


# As of, calendar changes, custom definitions


def test_as_of_answers_as_the_store_stood(app: HotlineApplication, cli: Cli) -> None:
    receive(app, "A1", "2026-03-02 10:00")
    log(app, "A1", "first_contact", "2026-03-03 09:00")
    moment = now()
    while now() <= moment:  # the next event is recorded strictly later
        pass
    close(app, "A1", "2026-03-10 16:00")
    reports = Reports(app, app.readmodel)
    march = parse_period("2026-03")
    (before,) = reports.rates(march, unit=MINHANG, as_of=moment).rows
    (after,) = reports.rates(march, unit=MINHANG).rows
    # As of `moment` A1 was open and past its limit (03-19), judged on moment's day.
    assert triple(before.values["on_time_rate"]) == (0.0, 1, 0.0)
    assert triple(before.values["unsubstantiated_rate"]) == (0.0, 0, None)
    assert triple(after.values["on_time_rate"]) == (1.0, 1, 100.0)
    assert triple(after.values["unsubstantiated_rate"]) == (0.0, 1, 0.0)
    assert triple(before.values["first_contact_rate"]) == (1.0, 1, 100.0)
    assert [f.reason for f in reports.explain(march, MINHANG, "on_time_rate", moment)] == [
        "still open, due 2026-03-19"
    ]
    assert reports.explain(march, MINHANG, "on_time_rate") == []
    # Before anything was logged, there was nothing.
    (empty,) = reports.rates(march, unit=MINHANG, as_of=datetime(2026, 1, 1, tzinfo=SHANGHAI)).rows
    assert triple(empty.values["volume"]) == (0.0, None, 0.0)
    args = ("report", "rates", "--unit", MINHANG, "--period", "2026-03", "--format", "json")
    code, out, err = cli(*args, "--as-of", "2026-01-01 00:00")
    assert code == 0, err
    document = json.loads(out)
    assert (document["as_of"], document["judged_on"]) == ("2026-01-01T00:00:00+08:00", "2026-01-01")
    assert document["rows"][0]["volume"] == 0
    code, out, err = cli(*args)
    assert json.loads(out)["rows"][0]["volume"] == 1 and json.loads(out)["as_of"] is None


def test_a_calendar_change_applies_at_the_next_report(app: HotlineApplication) -> None:
    receive(app, "C1", "2026-03-02 10:00")  # Monday
    log(app, "C1", "first_contact", "2026-03-04 09:00")  # Wednesday: day 2
    reports = Reports(app, app.readmodel)
    march = parse_period("2026-03")
    (before,) = reports.rates(march, unit=MINHANG).rows
    assert triple(before.values["first_contact_rate"]) == (0.0, 1, 0.0)
    app.add_closure(date(2026, 3, 3), "台风停工")  # Tuesday off: Wednesday is day 1
    (after,) = reports.rates(march, unit=MINHANG).rows
    assert triple(after.values["first_contact_rate"]) == (1.0, 1, 100.0)
    assert reports.explain(march, MINHANG, "first_contact_rate") == []


def test_metric_definitions_from_a_custom_folder(
    app: HotlineApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    receive(app, "D1", "2026-03-02 10:00")
    receive(app, "D2", "2026-03-03 10:00")
    custom = tmp_path / "projections"
    custom.mkdir()
    shutil.copy(projections_dir() / "volume.py", custom / "volume.py")
    text = (projections_dir() / "repeat_orders.py").read_text(encoding="utf-8")
    changed = text.replace('key="repeat_orders"', 'key="repeats_copy"')
    assert changed != text
    (custom / "repeats_copy.py").write_text(changed, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_PROJECTIONS", str(custom))
    assert "repeats_copy" not in rates(app, "2026-03")  # the settings are read as it opens
    app = HotlineApplication(db=app.settings.db)
    values = rates(app, "2026-03")
    assert sorted(values) == ["repeats_copy", "volume"]
    assert triple(values["volume"]) == (2.0, None, 2.0)
    assert triple(values["repeats_copy"]) == (0.0, None, 0.0)
    code, out, err = cli("report", "rates", "--unit", MINHANG, "--period", "2026-03",
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    assert set(json.loads(out)["rows"][0]) == {"name", "level", "group", "volume", "repeats_copy"}
    monkeypatch.delenv("HOTLINE_PROJECTIONS")
    code, out, err = cli("--projections", str(custom), "report", "rates", "--unit", MINHANG,
                         "--period", "2026-03", "--format", "json")  # fmt: skip
    assert code == 0, err
    assert set(json.loads(out)["rows"][0]) == {"name", "level", "group", "volume", "repeats_copy"}
    monkeypatch.setenv("HOTLINE_PROJECTIONS", str(custom))

    (custom / "broken.py").write_text("METRIC = Metric(\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"broken\.py: cannot load: SyntaxError"):
        rates(app, "2026-03")
    code, _, err = cli("report", "rates", "--period", "2026-03")
    assert code == 1 and "broken.py" in err and err.count("\n") == 1
    (custom / "broken.py").write_text("X = 1\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"broken\.py: defines no METRIC"):
        rates(app, "2026-03")
    (custom / "broken.py").unlink()
    shutil.copy(custom / "volume.py", custom / "volume_again.py")
    with pytest.raises(DataFileError, match="defined twice: volume"):
        rates(app, "2026-03")


def test_a_range_period(app: HotlineApplication) -> None:
    receive(app, "W1", "2026-03-02 10:00")
    receive(app, "W2", "2026-03-03 10:00")
    receive(app, "W3", "2026-03-04 10:00")
    values = rates(app, date_range(date(2026, 3, 3), date(2026, 3, 4)))
    assert triple(values["volume"]) == (2.0, None, 2.0)
