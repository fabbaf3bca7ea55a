"""Order No. 20's deadline set (domain.md §5) on real 2026 calendar cases, chosen by channel
and kind from rubrics/time-limits.toml; its metrics; the scheduler flagging by it.

The official 2026 calendar: National Day off 10-01 … 10-07, Saturday 10-10 a make-up
workday; Spring Festival off 02-15 … 02-23, Saturdays 02-14 and 02-28 make-up workdays;
清明 off 04-04 … 04-06. Working days below are counted by hand from that calendar.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.adapters.rubric_files import load_time_limit_rules
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.errors import HotlineError
from hotline.domain.limits import LimitName, LimitStatus, TimeLimitRules
from hotline.domain.order import Flagged, FlagLevel
from hotline.domain.periods import parse_period
from hotline.service.application import HotlineApplication
from hotline.service.flagging import flag_due_orders
from hotline.service.reports import Reports

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def receive(
    app: HotlineApplication, number: str, when: str, kind: str = "complaint",
    channel: str = "12315", **fields: Any,
) -> None:  # fmt: skip
    app.receive(number, unit=MINHANG, at=at(when), kind=kind, channel=channel, **fields)


def checks(app: HotlineApplication, number: str, today: str) -> dict[LimitName, Any]:
    view = app.view(number, date.fromisoformat(today))
    return {c.limit: (c.status, c.due, c.day) for c in view.checks}


# Which set governs which order


def test_a_12315_complaint_shows_order_20s_limits_and_no_12345_limit(
    app: HotlineApplication,
) -> None:
    receive(app, "A-1", "2026-09-30 15:00")
    found = checks(app, "A-1", "2026-10-09")
    assert list(found) == [LimitName.ACCEPTANCE, LimitName.ACCEPTANCE_NOTICE, LimitName.CLOSE,
                           LimitName.TERMINATION_NOTICE]  # fmt: skip
    # Day 1 is Thu 10-08; Sat 10-10 is a working day; day 7 is Thu 10-15.
    assert found[LimitName.ACCEPTANCE] == (LimitStatus.PENDING, date(2026, 10, 15), None)


def test_a_12345_order_handed_to_12315_keeps_the_1_5_13_set(app: HotlineApplication) -> None:
    receive(app, "A-2", "2026-09-30 15:00", channel="12345")
    found = checks(app, "A-2", "2026-10-09")
    assert list(found) == [LimitName.FIRST_CONTACT, LimitName.RETURN, LimitName.CLOSE]
    assert found[LimitName.FIRST_CONTACT] == (LimitStatus.OVERDUE, date(2026, 10, 8), None)


def test_a_12315_consultation_has_no_limit_of_either_set(app: HotlineApplication) -> None:
    receive(app, "A-3", "2026-09-30 15:00", kind="consultation")
    assert checks(app, "A-3", "2026-12-01") == {}


# Acceptance across National Day


@pytest.mark.parametrize(
    ("decided", "status", "day"),
    [("2026-10-15 17:00", LimitStatus.MET, 7), ("2026-10-16 09:00", LimitStatus.MISSED, 8)],
)
def test_acceptance_across_national_day(
    app: HotlineApplication, decided: str, status: LimitStatus, day: int
) -> None:
    receive(app, "N-1", "2026-09-30 15:00")
    app.record("N-1", "accepted", at=at(decided))
    app.record("N-1", "notified", at=at(decided), of="accepted")
    found = checks(app, "N-1", "2026-10-20")
    assert found[LimitName.ACCEPTANCE] == (status, date(2026, 10, 15), day)
    assert found[LimitName.ACCEPTANCE_NOTICE] == (status, date(2026, 10, 15), day)


def test_a_decline_is_a_decision_in_time_and_needs_no_close(app: HotlineApplication) -> None:
    receive(app, "N-2", "2026-09-30 15:00")
    app.record("N-2", "declined", at=at("2026-10-12 10:00"), reason="handled_before")
    found = checks(app, "N-2", "2026-12-01")
    assert found[LimitName.ACCEPTANCE] == (LimitStatus.MET, date(2026, 10, 15), 4)
    # declined, never told: the complainant was owed the decision by day 7
    assert found[LimitName.ACCEPTANCE_NOTICE][0] is LimitStatus.MISSED
    assert found[LimitName.CLOSE] == (LimitStatus.NOT_REQUIRED, None, None)


# Mediation over Spring Festival


def test_mediation_runs_45_working_days_from_acceptance_over_spring_festival(
    app: HotlineApplication,
) -> None:
    receive(app, "M-1", "2026-02-09 10:00")
    app.record("M-1", "accepted", at=at("2026-02-10 10:00"))
    # From Tue 02-10: 02-11 … 02-14 are days 1-4, 02-24 day 5, Sat 02-28 day 9, 04-03 day 34,
    # 04-07 day 35 (清明 off), Tue 04-21 day 45.
    before = checks(app, "M-1", "2026-04-21")
    assert before[LimitName.CLOSE] == (LimitStatus.PENDING, date(2026, 4, 21), None)
    assert checks(app, "M-1", "2026-04-22")[LimitName.CLOSE][:2] == (
        LimitStatus.OVERDUE, date(2026, 4, 21),
    )  # fmt: skip
    app.record("M-1", "mediation_ended", at=at("2026-04-21 16:00"), outcome="terminated",
               reason="no_agreement")  # fmt: skip
    app.record("M-1", "closed", at=at("2026-04-21 17:00"), result="unresolved")
    found = checks(app, "M-1", "2026-05-06")
    assert found[LimitName.CLOSE][:2] == (LimitStatus.MET, date(2026, 4, 21))
    # the parties were owed the termination within 7 working days: by Thu 04-30
    assert found[LimitName.TERMINATION_NOTICE][:2] == (LimitStatus.MISSED, date(2026, 4, 30))


def test_until_accepted_the_mediation_limit_runs_from_the_acceptance_limit(
    app: HotlineApplication,
) -> None:
    receive(app, "M-2", "2026-09-30 15:00")
    view = app.view("M-2", date(2026, 10, 9))
    (close,) = [c for c in view.checks if c.limit is LimitName.CLOSE]
    assert "from the acceptance limit" in close.note
    accepted_at_once = "M-3"
    receive(app, accepted_at_once, "2026-09-30 15:00")
    app.record(accepted_at_once, "accepted", at=at("2026-10-08 09:00"))
    later = checks(app, "M-2", "2026-10-09")[LimitName.CLOSE][1]
    earlier = checks(app, accepted_at_once, "2026-10-09")[LimitName.CLOSE][1]
    assert later > earlier  # accepted on day 1: the 45 days run six working days earlier


# A report, extended to 30 days


@pytest.mark.parametrize(
    ("applied", "due"),
    [("2026-03-20 10:00", date(2026, 4, 14)), ("2026-03-24 10:00", date(2026, 3, 23))],
)
def test_a_report_is_checked_in_15_working_days_or_30_extended_in_time(
    app: HotlineApplication, applied: str, due: date
) -> None:
    receive(app, "R-1", "2026-03-02 10:00", kind="report", citizen_phone="13812345678")
    # 03-03 is day 1, Mon 03-23 day 15; 30 days end Tue 04-14 (清明 04-06 off).
    app.record("R-1", "extended", at=at(applied), until=date(2026, 4, 30), reason="案情复杂")
    found = checks(app, "R-1", "2026-03-25")
    assert found[LimitName.REPORT_CHECK][1] == due
    assert found[LimitName.CLOSE][1] == due
    assert LimitName.FIRST_CONTACT not in found


def test_a_reporter_with_a_phone_is_told_within_5_working_days(
    app: HotlineApplication,
) -> None:
    receive(app, "R-2", "2026-03-02 10:00", kind="report", citizen_phone="13812345678")
    receive(app, "R-3", "2026-03-02 10:00", kind="report")
    for number in ("R-2", "R-3"):
        app.record(number, "case_decided", at=at("2026-03-20 10:00"), filed=False)
    told = checks(app, "R-2", "2026-03-30")[LimitName.REPORT_NOTICE]
    assert told == (LimitStatus.OVERDUE, date(2026, 3, 27), None)
    anonymous = checks(app, "R-3", "2026-03-30")[LimitName.REPORT_NOTICE]
    assert anonymous == (LimitStatus.NOT_REQUIRED, None, None)
    app.record("R-2", "notified", at=at("2026-03-27 16:00"), of="case_decided")
    assert checks(app, "R-2", "2026-03-30")[LimitName.REPORT_NOTICE][0] is LimitStatus.MET


# The scheduler


def test_the_scheduler_flags_acceptance_and_never_first_contact(
    app: HotlineApplication,
) -> None:
    receive(app, "S-1", "2026-09-30 15:00")
    receive(app, "S-2", "2026-09-30 15:00", channel="12345")
    day1 = flag_due_orders(app, at("2026-10-08 08:00"))
    assert [(f.number, f.limit) for f in day1.flagged] == [("S-2", "first_contact")]
    flag_due_orders(app, at("2026-10-09 08:00"))
    day7 = flag_due_orders(app, at("2026-10-15 08:00"))
    assert ("S-1", "acceptance", FlagLevel.DUE_SOON) in [
        (f.number, f.limit, f.level) for f in day7.flagged
    ]
    day8 = flag_due_orders(app, at("2026-10-16 08:00"))
    assert ("S-1", "acceptance", FlagLevel.OVERDUE) in [
        (f.number, f.limit, f.level) for f in day8.flagged
    ]
    limits = {e.limit for e in app.order("S-1").events_of(Flagged)}
    assert "first_contact" not in limits and "acceptance" in limits
    due = Reports(app).due(today=date(2026, 10, 16), window=0)
    assert {(d.number, d.limit.value) for d in due if d.number == "S-1"} >= {("S-1", "acceptance")}
    assert all(d.limit is not LimitName.FIRST_CONTACT for d in due if d.number == "S-1")


def test_orders_overdue_and_order_show_through_the_cli(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the labels on one line each
    code, _, err = cli("order", "receive", "C-1", "--unit", MINHANG, "--kind", "投诉",
                       "--channel", "12315", "--at", "2026-09-30 15:00")  # fmt: skip
    assert code == 0, err
    # judged on today (after 2026-10): the complaint was never accepted
    code, out, err = cli("order", "show", "C-1", "--format", "json")
    assert code == 0, err
    limits = {limit["limit"]: limit for limit in json.loads(out)["limits"]}
    assert set(limits) == {"acceptance", "acceptance_notice", "close", "termination_notice"}
    assert (limits["acceptance"]["status"], limits["acceptance"]["due"]) == (
        "overdue", "2026-10-15",
    )  # fmt: skip
    code, text, err = cli("order", "show", "C-1")
    assert code == 0, err
    assert "acceptance 受理" in text and "先行联系" not in text
    code, out, err = cli("orders", "overdue", "--format", "json")
    assert code == 0, err
    assert {(r["order"], r["limit"], r["status"]) for r in json.loads(out)["rows"]} == {
        ("C-1", "acceptance", "overdue"), ("C-1", "acceptance_notice", "overdue"),
    }  # fmt: skip


# The metrics


def test_on_time_acceptance_report_check_and_notice_name_the_orders(
    app: HotlineApplication,
) -> None:
    receive(app, "K-1", "2026-09-30 15:00")  # accepted day 7, told day 7: in time
    app.record("K-1", "accepted", at=at("2026-10-15 10:00"))
    app.record("K-1", "notified", at=at("2026-10-15 11:00"), of="accepted")
    receive(app, "K-2", "2026-09-30 15:00")  # declined day 8: late, told late
    app.record("K-2", "declined", at=at("2026-10-16 10:00"), reason="handled_before")
    app.record("K-2", "notified", at=at("2026-10-16 11:00"), of="declined")
    receive(app, "K-3", "2026-09-30 15:00")  # never decided, still open: late
    receive(app, "K-4", "2026-10-01 10:00", channel="12345")  # a 12345 order: not counted
    receive(app, "K-5", "2026-10-09 10:00", kind="report", citizen_phone="13812345678")
    app.record("K-5", "case_decided", at=at("2026-10-20 10:00"), filed=True)
    reports = Reports(app)
    period = parse_period("2026-10")
    (row,) = reports.rates(period, unit=MINHANG).rows
    counts = {
        key: (row.values[key].numerator, row.values[key].denominator)
        for key in ("on_time_acceptance", "on_time_report_check", "on_time_notice")
    }
    # K-5: day 1 is Sat 10-10 (make-up), decided on day 8, due day 15 (10-29); told by 10-27
    assert counts == {"on_time_acceptance": (1, 3), "on_time_report_check": (1, 1),
                      "on_time_notice": (1, 4)}  # fmt: skip
    missed = {(m.metric.key, m.number): m.reason for m in reports.explain(period, MINHANG)}
    assert missed[("on_time_acceptance", "K-2")] == (
        "accepted or declined on working day 8 (2026-10-16), due 2026-10-15"
    )
    assert missed[("on_time_acceptance", "K-3")] == "not accepted or declined yet, due 2026-10-15"
    assert missed[("on_time_notice", "K-5")] == "not told of the case decision, due 2026-10-27"
    assert missed[("on_time_notice", "K-2")] == (
        "told of the acceptance decision on 2026-10-16, due 2026-10-15"
    )
    assert not any(number == "K-4" for key, number in missed if key.startswith("on_time_a"))


# The file


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('set = "order-20"', 'set = "order-21"', "governs"),
        ("report_check_extended_days = 30", "report_check_extended_days = 10", "order_20"),
        ("acceptance_days = 7\n", "", "acceptance_days"),
    ],
)
def test_a_broken_time_limits_file_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, rules: TimeLimitRules, old: str, new: str, said: str
) -> None:
    source = Path(__file__).parents[1] / "rubrics" / "time-limits.toml"
    broken = tmp_path / "time-limits.toml"
    broken.write_text(source.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(HotlineError) as raised:
        load_time_limit_rules(broken)
    message = str(raised.value)
    assert "\n" not in message and "time-limits.toml" in message and said in message, message
    assert rules.order_20.acceptance_days == 7  # the file as shipped loads
