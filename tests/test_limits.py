"""The 1·5·13 limits on the real 2026 calendar (domain.md §5). Dates computed by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from hotline.adapters.official_calendar import official_schedules
from hotline.domain.aggregate import SHANGHAI
from hotline.domain.calendar import Closure, WorkingCalendar
from hotline.domain.limits import (
    CloseLimit,
    LimitCheck,
    LimitName,
    LimitStatus,
    TimeLimitRules,
    check_limits,
    short_extension,
)
from hotline.domain.order import Order
from hotline.domain.vocabulary import Channel, Kind

Checks = dict[LimitName, LimitCheck]


def t(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def order(received: str, kind: str = "complaint", channel: str = "12345") -> Order:
    return Order.receive("2026-000001", at=t(received), unit="u", kind=kind, channel=channel)


@pytest.fixture
def check(calendar: WorkingCalendar, rules: TimeLimitRules) -> Callable[..., Checks]:
    def run(
        o: Order,
        today: str,
        cal: WorkingCalendar | None = None,
        limits: TimeLimitRules | None = None,
    ) -> Checks:
        found = check_limits(o, cal or calendar, limits or rules, date.fromisoformat(today))
        return {c.limit: c for c in found}

    return run


def test_spring_festival_normal_order(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")  # Friday before the Spring Festival
    checks = check(o, "2026-02-13")
    # Day 1 is the make-up Saturday Feb 14; Feb 15-23 are off; day 13 is Tue Mar 10.
    assert checks[LimitName.FIRST_CONTACT].due == date(2026, 2, 14)
    assert checks[LimitName.FIRST_CONTACT].status is LimitStatus.PENDING
    assert checks[LimitName.CLOSE].due == date(2026, 3, 10)
    assert checks[LimitName.RETURN].due == date(2026, 2, 14)
    assert checks[LimitName.RETURN].status is LimitStatus.PENDING


def test_contact_on_the_make_up_saturday_is_day_one(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.contact(at=t("2026-02-14", 9))
    contact = check(o, "2026-03-01")[LimitName.FIRST_CONTACT]
    assert (contact.status, contact.day) == (LimitStatus.MET, 1)


def test_contact_after_the_holiday_is_late(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.contact(at=t("2026-02-24", 9))  # first working day after the holiday: day 2
    contact = check(o, "2026-03-01")[LimitName.FIRST_CONTACT]
    assert (contact.status, contact.day) == (LimitStatus.MISSED, 2)


def test_received_on_the_make_up_saturday(check: Callable[..., Checks]) -> None:
    o = order("2026-02-14")  # a working Saturday: day 1 is the first day after the holiday
    o.contact(at=t("2026-02-24", 9))
    checks = check(o, "2026-02-24")
    assert checks[LimitName.FIRST_CONTACT].status is LimitStatus.MET
    assert checks[LimitName.FIRST_CONTACT].day == 1


def test_received_on_a_saturday(check: Callable[..., Checks]) -> None:
    o = order("2026-02-07")
    assert check(o, "2026-02-07")[LimitName.FIRST_CONTACT].due == date(2026, 2, 9)


@pytest.mark.parametrize("received", ["2026-09-30", "2026-10-01", "2026-10-05"])
def test_national_day(check: Callable[..., Checks], received: str) -> None:
    # Off Oct 1-7; Sat Oct 10 is a make-up workday. Day 1 Oct 8, day 13 Fri Oct 23.
    checks = check(order(received), received)
    assert checks[LimitName.FIRST_CONTACT].due == date(2026, 10, 8)
    assert checks[LimitName.CLOSE].due == date(2026, 10, 23)


def test_revisit_review_has_five_days_less_the_feedback_day(
    check: Callable[..., Checks], rules: TimeLimitRules
) -> None:
    o = order("2026-02-13", kind="revisit_review")
    # 5 - 1 = 4 working days: Feb 14, 24, 25, 26.
    assert check(o, "2026-02-13")[LimitName.CLOSE].due == date(2026, 2, 26)
    without = rules.model_copy(update={"feedback_allowance_days": 0})
    assert check(o, "2026-02-13", limits=without)[LimitName.CLOSE].due == date(2026, 2, 27)


@pytest.mark.parametrize("kind", [k.value for k in Kind if k is not Kind.REVISIT_REVIEW])
def test_every_other_kind_has_thirteen_days(check: Callable[..., Checks], kind: str) -> None:
    assert check(order("2026-02-13", kind=kind), "2026-02-13")[LimitName.CLOSE].due == date(
        2026, 3, 10
    )


def test_the_close_limit_is_chosen_by_channel_and_kind(
    check: Callable[..., Checks], rules: TimeLimitRules
) -> None:
    samr = rules.model_copy(
        update={
            "close": (
                CloseLimit(channel=Channel.HOTLINE_12315, kind=Kind.REPORT, days=15),
                *rules.close,
            )
        }
    )
    report = order("2026-02-13", kind="report", channel="12315")
    # Day 15 after Feb 13: Mar 10 is day 13, Mar 11 day 14, Mar 12 day 15.
    assert check(report, "2026-02-13", limits=samr)[LimitName.CLOSE].due == date(2026, 3, 12)
    other = order("2026-02-13", kind="report", channel="12345")
    assert check(other, "2026-02-13", limits=samr)[LimitName.CLOSE].due == date(2026, 3, 10)


def test_extension_moves_the_close_limit_to_the_promised_date_less_the_feedback_day(
    check: Callable[..., Checks], rules: TimeLimitRules
) -> None:
    o = order("2026-02-13")
    o.extend(at=t("2026-03-02"), until=date(2026, 3, 20), reason="需现场核查")  # day 7
    close = check(o, "2026-03-02")[LimitName.CLOSE]
    assert (close.due, close.status) == (date(2026, 3, 19), LimitStatus.PENDING)
    assert "extended to 2026-03-20" in close.note
    without = rules.model_copy(update={"extension_feedback_allowance": False})
    assert check(o, "2026-03-02", limits=without)[LimitName.CLOSE].due == date(2026, 3, 20)


def test_closed_on_the_promised_date_is_late_by_the_feedback_day(
    check: Callable[..., Checks],
) -> None:
    o = order("2026-02-13")
    o.extend(at=t("2026-03-02"), until=date(2026, 3, 20), reason="需现场核查")
    o.close(at=t("2026-03-20"), result="resolved")
    assert check(o, "2026-03-20")[LimitName.CLOSE].status is LimitStatus.MISSED


def test_promised_date_on_a_weekend_counts_from_the_friday(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.extend(at=t("2026-03-02"), until=date(2026, 3, 22), reason="x")  # a Sunday
    assert check(o, "2026-03-02")[LimitName.CLOSE].due == date(2026, 3, 19)


def test_an_extension_applied_for_after_day_thirteen_does_not_count(
    check: Callable[..., Checks],
) -> None:
    o = order("2026-02-13")
    o.extend(at=t("2026-03-11"), until=date(2026, 3, 31), reason="x")  # day 14
    close = check(o, "2026-03-11")[LimitName.CLOSE]
    assert (close.due, close.status) == (date(2026, 3, 10), LimitStatus.OVERDUE)
    assert "not counted" in close.note


def test_open_past_the_limit_is_overdue_and_closed_late_is_missed(
    check: Callable[..., Checks],
) -> None:
    o = order("2026-02-13")
    assert check(o, "2026-03-10")[LimitName.CLOSE].status is LimitStatus.PENDING
    assert check(o, "2026-03-11")[LimitName.CLOSE].status is LimitStatus.OVERDUE
    o.close(at=t("2026-03-11"), result="resolved")
    close = check(o, "2026-03-20")[LimitName.CLOSE]
    assert (close.status, close.day) == (LimitStatus.MISSED, 14)


def test_closed_without_contact_misses_the_contact_limit(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.close(at=t("2026-02-14", 16), result="resolved")
    checks = check(o, "2026-02-14")
    assert checks[LimitName.FIRST_CONTACT].status is LimitStatus.MISSED
    assert checks[LimitName.CLOSE].status is LimitStatus.MET


def test_no_reply_requested_needs_no_contact(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.close(at=t("2026-02-26"), result="explained", no_reply_requested=True)
    assert check(o, "2026-03-01")[LimitName.FIRST_CONTACT].status is LimitStatus.NOT_REQUIRED


def test_out_of_jurisdiction_return_in_time(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.return_(at=t("2026-02-14", 15), reason="非本单位管辖", out_of_jurisdiction=True)
    checks = check(o, "2026-03-20")
    assert checks[LimitName.RETURN].status is LimitStatus.MET
    assert checks[LimitName.FIRST_CONTACT].status is LimitStatus.NOT_REQUIRED
    assert checks[LimitName.CLOSE].status is LimitStatus.NOT_REQUIRED


def test_out_of_jurisdiction_return_late(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.return_(at=t("2026-02-24"), reason="非本单位管辖", out_of_jurisdiction=True)
    checks = check(o, "2026-03-20")
    assert (checks[LimitName.RETURN].status, checks[LimitName.RETURN].day) == (
        LimitStatus.MISSED,
        2,
    )
    assert checks[LimitName.FIRST_CONTACT].status is LimitStatus.MISSED


def test_other_returns_have_no_return_limit(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.return_(at=t("2026-02-26"), reason="诉求不清")
    assert check(o, "2026-03-20")[LimitName.RETURN].status is LimitStatus.NOT_REQUIRED


def test_a_rejected_return_puts_the_limits_back(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.return_(at=t("2026-02-14"), reason="非本单位管辖", out_of_jurisdiction=True)
    o.reject_return(at=t("2026-02-24"))
    checks = check(o, "2026-03-11")
    assert checks[LimitName.FIRST_CONTACT].status is LimitStatus.OVERDUE
    assert checks[LimitName.CLOSE].status is LimitStatus.OVERDUE


def test_a_local_closure_moves_the_deadline(check: Callable[..., Checks]) -> None:
    typhoon = WorkingCalendar(official_schedules(), [Closure(date(2026, 3, 3), "台风停工")])
    o = order("2026-02-13")
    assert check(o, "2026-02-13", cal=typhoon)[LimitName.CLOSE].due == date(2026, 3, 11)


def test_deadlines_in_an_unpublished_year_are_provisional(check: Callable[..., Checks]) -> None:
    without_2026 = WorkingCalendar(s for s in official_schedules() if s.year != 2026)
    o = order("2026-09-30")
    close = check(o, "2026-09-30", cal=without_2026)[LimitName.CLOSE]
    # The statutory Oct 1-3 only, no 调休: Oct 5-9 are days 1-5, Oct 12-16 days 6-10, Oct
    # 19-21 days 11-13.
    assert (close.due, close.provisional) == (date(2026, 10, 21), True)
    close = check(o, "2026-09-30")[LimitName.CLOSE]
    assert (close.due, close.provisional) == (date(2026, 10, 23), False)


def test_an_extension_never_shortens_the_limit(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.extend(at=t("2026-02-25"), until=date(2026, 2, 27), reason="x")
    close = check(o, "2026-02-25")[LimitName.CLOSE]
    assert close.due == date(2026, 3, 10)
    assert "does not extend it" in close.note


def test_a_rejected_return_is_not_a_timely_return(check: Callable[..., Checks]) -> None:
    o = order("2026-02-13")
    o.return_(at=t("2026-02-14"), reason="非本单位管辖", out_of_jurisdiction=True)
    o.reject_return(at=t("2026-02-24"))
    returned = check(o, "2026-02-24")[LimitName.RETURN]
    assert returned.status is LimitStatus.NOT_REQUIRED
    assert "二次退回" in returned.note


def test_a_limit_over_a_computed_spring_festival_is_provisional(
    check: Callable[..., Checks],
) -> None:
    without_2026 = WorkingCalendar(s for s in official_schedules() if s.year != 2026)
    o = order("2026-02-13")  # computed 春节 2026: 除夕 Mon 02-16 to 初三 Thu 02-19 off, no 调休
    checks = check(o, "2026-02-13", cal=without_2026)
    contact, close = checks[LimitName.FIRST_CONTACT], checks[LimitName.CLOSE]
    assert (contact.due, contact.provisional) == (date(2026, 2, 20), True)
    # Day 1 is Fri 02-20, days 2-6 are 02-23 … 02-27, 7-11 03-02 … 03-06, 13 Tue 03-10.
    assert (close.due, close.provisional) == (date(2026, 3, 10), True)


def test_the_return_row_has_one_state_and_one_message(check: Callable[..., Checks]) -> None:
    """Issue 21 item 4: not "not_required" beside "return by then"."""
    o = order("2026-02-13")
    pending = check(o, "2026-02-13")[LimitName.RETURN]
    assert pending.status is LimitStatus.PENDING
    assert pending.note == "if out of jurisdiction, return by then"
    passed = check(o, "2026-03-02")[LimitName.RETURN]
    assert passed.status is LimitStatus.NOT_REQUIRED
    assert "return by then" not in passed.note and "the unit handles it" in passed.note


def test_a_short_extension_is_found_a_long_one_is_not(
    calendar: WorkingCalendar, rules: TimeLimitRules
) -> None:
    short = order("2026-02-13")
    short.extend(at=t("2026-02-25"), until=date(2026, 2, 27), reason="x")
    assert short_extension(short, calendar, rules) == date(2026, 3, 10)
    long = order("2026-02-13")
    long.extend(at=t("2026-02-25"), until=date(2026, 3, 20), reason="x")
    assert short_extension(long, calendar, rules) is None
    late = order("2026-02-13")  # applied for after day 13: not counted, so not refused
    late.extend(at=t("2026-03-12"), until=date(2026, 3, 13), reason="x")
    assert short_extension(late, calendar, rules) is None
    assert short_extension(order("2026-02-13"), calendar, rules) is None
