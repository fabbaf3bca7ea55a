"""The working-day calendar (domain.md §4): domain rules, the official data, user year files."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from hotline.adapters.calendar_file import load_year_schedule, parse_year_schedule
from hotline.adapters.official_calendar import official_schedules
from hotline.domain.calendar import (
    Closure,
    DayKind,
    WorkingCalendar,
    YearSchedule,
)
from hotline.domain.errors import CalendarError, DataFileError, InvalidInput

DOCS_2026 = Path(__file__).resolve().parents[1] / "docs" / "calendar-2026.toml"

# chinesecalendar's Chinese names are short for three holidays; the notices (and our
# docs/calendar-2026.toml) say 清明节, 端午节, 中秋节.
NOTICE_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def official() -> list[YearSchedule]:
    return official_schedules()


@pytest.fixture(scope="module")
def cal(official: list[YearSchedule]) -> WorkingCalendar:
    return WorkingCalendar(official)


def schedule_2026(official: list[YearSchedule]) -> YearSchedule:
    return next(s for s in official if s.year == 2026)


# A made-up 2027 schedule (no 2027 schedule is in chinesecalendar 1.11): 2027-01-01 is a
# Friday, 2027-02-06 (正月初一) a Saturday.
HYPOTHETICAL_2027 = """\
year = 2027
source = "test: a made-up 2027 schedule"
[[holiday]]
name = "元旦"
from = 2027-01-01
to = 2027-01-03
[[holiday]]
name = "春节"
from = 2027-02-05
to = 2027-02-12
workdays = [2027-01-31, 2027-02-20]
"""


# --- 2026, the official schedule -----------------------------------------------------


def test_2026_spring_festival_days(cal: WorkingCalendar) -> None:
    for makeup in (date(2026, 2, 14), date(2026, 2, 28)):
        assert makeup.weekday() == 5  # Saturday
        status = cal.status(makeup)
        assert status.kind is DayKind.MAKEUP_WORKDAY
        assert status.is_working and status.name == "春节" and status.published
        assert cal.is_working_day(makeup)
    for day in days(date(2026, 2, 15), date(2026, 2, 23)):
        status = cal.status(day)
        assert (status.kind, status.is_working, status.name) == (DayKind.HOLIDAY, False, "春节")
        assert not cal.is_working_day(day)
    assert cal.status(date(2026, 2, 24)).kind is DayKind.WORKDAY
    assert cal.status(date(2026, 3, 1)).kind is DayKind.WEEKEND  # Sunday after the make-up Sat
    assert cal.status(date(2026, 3, 1)).name is None


def test_received_friday_before_spring_festival(cal: WorkingCalendar) -> None:
    received = date(2026, 2, 13)  # Friday
    assert cal.add_working_days(received, 1) == date(2026, 2, 14)  # make-up Saturday
    assert cal.add_working_days(received, 2) == date(2026, 2, 24)  # first day after 春节
    # 2/14(1) 2/24(2) 2/25(3) 2/26(4) 2/27(5) 2/28 Sat(6) 3/2(7) 3/3(8) 3/4(9) 3/5(10)
    # 3/6(11) 3/9(12) 3/10(13)
    assert cal.add_working_days(received, 13) == date(2026, 3, 10)
    assert cal.working_days_between(received, date(2026, 3, 10)) == 13
    assert cal.working_days_between(received, date(2026, 3, 9)) == 12


def test_received_on_a_saturday(cal: WorkingCalendar) -> None:
    received = date(2026, 2, 7)  # an ordinary Saturday
    assert cal.add_working_days(received, 1) == date(2026, 2, 9)  # Monday
    assert cal.add_working_days(received, 5) == date(2026, 2, 13)
    assert cal.add_working_days(received, 6) == date(2026, 2, 14)  # make-up Saturday
    assert cal.working_days_between(received, date(2026, 2, 8)) == 0  # Sunday
    assert cal.working_days_between(received, date(2026, 2, 9)) == 1


def test_received_on_national_day(cal: WorkingCalendar) -> None:
    # 国庆节 2026: off 10/1–10/7; make-up workdays Sun 9/20 and Sat 10/10.
    assert cal.status(date(2026, 9, 20)).kind is DayKind.MAKEUP_WORKDAY
    assert cal.status(date(2026, 10, 10)).kind is DayKind.MAKEUP_WORKDAY
    assert cal.status(date(2026, 10, 1)).name == "国庆节"
    received = date(2026, 10, 1)
    assert cal.add_working_days(received, 1) == date(2026, 10, 8)  # Thursday
    assert cal.add_working_days(received, 3) == date(2026, 10, 10)  # make-up Saturday
    assert cal.add_working_days(received, 4) == date(2026, 10, 12)  # Sunday 10/11 is off


# --- ordinals --------------------------------------------------------------------------


def test_epoch_and_ordinal_round_trip(cal: WorkingCalendar) -> None:
    assert cal.ordinal(date(2000, 1, 1)) == 0  # a Saturday
    assert cal.working_day(1) == date(2000, 1, 3)
    last = cal.ordinal(date(2099, 12, 31))
    for k in [1, 2, 1000, last - 1, last, *random.Random(1).sample(range(1, last), 2000)]:
        day = cal.working_day(k)
        assert cal.is_working_day(day)
        assert cal.ordinal(day) == k
    with pytest.raises(CalendarError):
        cal.working_day(0)
    with pytest.raises(CalendarError):
        cal.working_day(last + 1)


def test_ordinal_counts_working_days_day_by_day(cal: WorkingCalendar) -> None:
    """Every day 2000–2099: ordinal is the running count of `status().is_working`."""
    count = 0
    for day in days(date(2000, 1, 1), date(2099, 12, 31)):
        status = cal.status(day)
        assert status.is_working == cal.is_working_day(day), day
        count += status.is_working
        assert cal.ordinal(day) == count, day
        if status.is_working:
            assert cal.working_day(count) == day


def test_working_days_between(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 13)) == 0
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert cal.working_days_between(date(2026, 3, 10), date(2026, 2, 13)) == -13
    # 2026: 365 days, 104 weekend days; 33 days off, 14 of them on weekends, so 19 on
    # weekdays; 6 make-up workdays: 365 - 104 - 19 + 6 = 248 working days.
    assert cal.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


def naive_add(cal: WorkingCalendar, day: date, n: int) -> date:
    count = 0
    while count < n:
        day += timedelta(days=1)
        if cal.status(day).is_working:
            count += 1
    return day


def test_add_working_days_agrees_with_a_naive_loop(cal: WorkingCalendar) -> None:
    rng = random.Random(12345)
    start = date(2018, 1, 1)
    span = (date(2027, 12, 31) - start).days
    samples = [start + timedelta(days=rng.randrange(span)) for _ in range(3000)]
    # Plus every day around the 2026 holidays.
    samples += days(date(2025, 12, 25), date(2026, 3, 15))
    samples += days(date(2026, 9, 15), date(2026, 10, 20))
    for day in samples:
        for n in (1, 2, 5, 13, 30):
            expected = naive_add(cal, day, n)
            assert cal.add_working_days(day, n) == expected, (day, n)
            assert cal.working_days_between(day, expected) == n


def test_add_working_days_needs_at_least_one_day(cal: WorkingCalendar) -> None:
    with pytest.raises(InvalidInput):
        cal.add_working_days(date(2026, 2, 13), 0)


# --- years with no published schedule --------------------------------------------------


def test_unpublished_year_knows_weekends_and_statutory_holidays(cal: WorkingCalendar) -> None:
    assert cal.published_years == tuple(range(2004, 2027))
    assert not cal.is_published(2027) and cal.is_published(2026)
    new_year = cal.status(date(2027, 1, 1))  # a Friday: 元旦 is law, computed
    assert (new_year.kind, new_year.is_working, new_year.name, new_year.published) == (
        DayKind.HOLIDAY,
        False,
        "元旦",
        False,
    )
    saturday = cal.status(date(2027, 1, 2))
    assert (saturday.kind, saturday.is_working, saturday.published) == (
        DayKind.WEEKEND,
        False,
        False,
    )
    # 正月初一 2027 is Sat 02-06: 除夕 Fri 02-05 to 初三 Mon 02-08. 清明 is Mon 04-05, 端午
    # Wed 06-09, 中秋 Wed 09-15; no make-up workday is guessed.
    off = {date(2027, 1, 1), *days(date(2027, 2, 5), date(2027, 2, 8)), date(2027, 4, 5),
           date(2027, 5, 1), date(2027, 5, 2), date(2027, 6, 9), date(2027, 9, 15),
           *days(date(2027, 10, 1), date(2027, 10, 3))}  # fmt: skip
    for day in days(date(2027, 1, 1), date(2027, 12, 31)):
        assert cal.is_working_day(day) == (day.weekday() < 5 and day not in off), day
    for day in days(date(2003, 1, 1), date(2003, 12, 31)):  # before the 2025 rules: weekends
        assert cal.is_working_day(day) == (day.weekday() < 5)
    assert cal.unpublished_years(date(2026, 12, 1), date(2027, 2, 1)) == (2027,)
    assert cal.unpublished_years(date(2026, 1, 1), date(2028, 3, 1)) == (2027, 2028)
    assert cal.unpublished_years(date(2026, 1, 1), date(2026, 12, 31)) == ()
    assert cal.unpublished_years(date(2003, 6, 1), date(2004, 6, 1)) == (2003,)


def test_user_schedule_publishes_a_new_year(official: list[YearSchedule]) -> None:
    user_2027 = parse_year_schedule(HYPOTHETICAL_2027, "calendar-2027.toml")
    cal = WorkingCalendar([*official, user_2027])
    assert cal.is_published(2027)
    assert cal.published_years[-1] == 2027
    assert cal.unpublished_years(date(2026, 12, 1), date(2027, 2, 1)) == ()
    status = cal.status(date(2027, 1, 1))
    assert (status.kind, status.name, status.published) == (DayKind.HOLIDAY, "元旦", True)
    assert cal.status(date(2027, 1, 31)).kind is DayKind.MAKEUP_WORKDAY
    # Received Friday 2027-02-05: the published bridge days 02-09 … 02-12 are off, day 1 is
    # Monday 02-15; the statutory days alone end on 02-08.
    assert cal.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 15)
    assert WorkingCalendar(official).add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 9)


def test_user_schedule_replaces_the_package_one(official: list[YearSchedule]) -> None:
    user_2026 = YearSchedule(
        year=2026,
        holidays={d: "春节" for d in days(date(2026, 2, 16), date(2026, 2, 20))},
        workdays={},
        source="test: a different 2026",
    )
    cal = WorkingCalendar([*official, user_2026])
    assert cal.status(date(2026, 2, 14)).kind is DayKind.WEEKEND  # no longer a make-up day
    assert cal.status(date(2026, 2, 23)).kind is DayKind.WORKDAY
    assert cal.status(date(2026, 10, 1)).kind is DayKind.WORKDAY  # no 国庆节 in it
    assert cal.status(date(2026, 2, 16)).kind is DayKind.HOLIDAY
    # The later one wins: package data after the user's restores the package's 2026.
    back = WorkingCalendar([user_2026, *official])
    assert back.status(date(2026, 2, 14)).kind is DayKind.MAKEUP_WORKDAY
    # Other years are untouched.
    assert cal.ordinal(date(2025, 12, 31)) == back.ordinal(date(2025, 12, 31))


# --- closures --------------------------------------------------------------------------


def test_typhoon_closure_turns_a_working_day_off(official: list[YearSchedule]) -> None:
    typhoon = Closure(date(2026, 9, 15), "台风停工")
    plain = WorkingCalendar(official)
    closed = WorkingCalendar(official, [typhoon])
    received = date(2026, 9, 14)  # Monday
    # 9/15(1) 9/16 9/17 9/18 9/20 Sun make-up(5) 9/21–9/24(9) 9/28–9/30(12) 10/8(13)
    assert plain.add_working_days(received, 13) == date(2026, 10, 8)
    assert closed.add_working_days(received, 13) == date(2026, 10, 9)
    assert plain.add_working_days(received, 1) == date(2026, 9, 15)
    assert closed.add_working_days(received, 1) == date(2026, 9, 16)
    status = closed.status(date(2026, 9, 15))
    assert (status.kind, status.is_working, status.name) == (DayKind.CLOSURE, False, "台风停工")
    assert closed.ordinal(date(2026, 12, 31)) == plain.ordinal(date(2026, 12, 31)) - 1
    assert closed.ordinal(date(2026, 9, 14)) == plain.ordinal(date(2026, 9, 14))


def test_closure_of_a_day_off_changes_nothing(official: list[YearSchedule]) -> None:
    cal = WorkingCalendar(
        official, [Closure(date(2026, 9, 19), "台风"), Closure(date(2026, 10, 2), "台风")]
    )
    assert cal.status(date(2026, 9, 19)).kind is DayKind.WEEKEND
    assert cal.status(date(2026, 10, 2)).kind is DayKind.HOLIDAY
    assert cal.ordinal(date(2026, 12, 31)) == WorkingCalendar(official).ordinal(date(2026, 12, 31))


# --- out of range and broken schedules -------------------------------------------------


@pytest.mark.parametrize("day", [date(1999, 12, 31), date(2100, 1, 1)])
def test_out_of_range_date(cal: WorkingCalendar, day: date) -> None:
    for call in (
        lambda: cal.status(day),
        lambda: cal.is_working_day(day),
        lambda: cal.ordinal(day),
        lambda: cal.add_working_days(day, 1),
        lambda: cal.working_days_between(date(2026, 1, 1), day),
        lambda: cal.unpublished_years(day, date(2026, 1, 1)),
    ):
        with pytest.raises(CalendarError) as info:
            call()
        assert day.isoformat() in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(CalendarError):
        WorkingCalendar([], [Closure(day, "台风")])


def test_add_working_days_past_the_end(cal: WorkingCalendar) -> None:
    with pytest.raises(CalendarError, match="past the end"):
        cal.add_working_days(date(2099, 12, 20), 30)


@pytest.mark.parametrize(
    ("year", "off", "work", "message"),
    [
        (2027, {date(2027, 1, 1): "元旦"}, {date(2027, 2, 10): "春节"}, "Wednesday"),
        (2027, {date(2026, 12, 31): "元旦"}, {}, "not in 2027"),
        (2027, {date(2027, 1, 2): "元旦"}, {date(2027, 1, 2): "元旦"}, "both"),
        (2100, {}, {}, "outside"),
    ],
)
def test_broken_year_schedule(
    year: int, off: dict[date, str], work: dict[date, str], message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        YearSchedule(year=year, holidays=off, workdays=work, source="test")


# --- the official data -----------------------------------------------------------------


def test_official_schedules_cover_2004_to_2026(official: list[YearSchedule]) -> None:
    assert [s.year for s in official] == list(range(2004, 2027))
    assert all(s.source.startswith("chinesecalendar ") for s in official)
    names = {n for s in official for n in (*s.holidays.values(), *s.workdays.values())}
    assert {"元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆节"} <= names
    assert all(not name.isascii() for name in names)
    # A notice can move a working Saturday into the previous year: the 2012 元旦's
    # 2011-12-31 make-up day sits in the 2011 schedule.
    assert schedule_for(official, 2011).workdays[date(2011, 12, 31)] == "元旦"


def schedule_for(official: list[YearSchedule], year: int) -> YearSchedule:
    return next(s for s in official if s.year == year)


def test_official_calendar_agrees_with_the_holidays_package(cal: WorkingCalendar) -> None:
    """Every day 2019-01-01 … 2026-12-31, working or not, equals python-holidays' view.

    python-holidays lists only the statutory days off falling on weekdays (and their
    substitutes), so its days off are the weekday entries of `country_holidays`; it
    exposes make-up workdays as `weekend_workdays` (used by its `is_working_day`). We
    compare both: a weekday is working iff it is not in its holidays, a weekend day iff
    it is one of its `weekend_workdays`.
    """
    other = holidays.country_holidays("CN", years=range(2019, 2027))
    for year in range(2019, 2027):
        assert any(d.year == year for d in other.weekend_workdays), year
    for day in days(date(2019, 1, 1), date(2026, 12, 31)):
        theirs = day not in other if day.weekday() < 5 else day in other.weekend_workdays
        assert cal.is_working_day(day) == theirs, (day, cal.status(day), other.get(day))


def test_official_differences_with_holidays_before_2019(cal: WorkingCalendar) -> None:
    """2004–2018 the only disagreement is 2005-12-31, a working Saturday for 2006's 元旦
    that chinesecalendar lacks (its open issue #125); python-holidays has it."""
    other = holidays.country_holidays("CN", years=range(2004, 2019))
    differ = {
        day
        for day in days(date(2004, 1, 1), date(2018, 12, 31))
        if cal.is_working_day(day) != other.is_working_day(day)
    }
    assert differ <= {date(2005, 12, 31)}


# --- user year files -------------------------------------------------------------------


def test_docs_2026_file_equals_the_package_schedule(official: list[YearSchedule]) -> None:
    from_file = load_year_schedule(DOCS_2026)
    package = schedule_2026(official)
    assert from_file.year == 2026
    assert from_file.source == "国务院办公厅关于2026年部分节假日安排的通知"
    assert set(from_file.holidays) == set(package.holidays)
    assert set(from_file.workdays) == set(package.workdays)
    as_notice = {d: NOTICE_NAMES.get(n, n) for d, n in package.holidays.items()}
    assert dict(from_file.holidays) == as_notice
    assert dict(from_file.workdays) == {
        d: NOTICE_NAMES.get(n, n) for d, n in package.workdays.items()
    }
    user = WorkingCalendar([*official, from_file])
    plain = WorkingCalendar(official)
    for day in days(date(2026, 1, 1), date(2026, 12, 31)):
        assert user.ordinal(day) == plain.ordinal(day)


BROKEN = [
    pytest.param("year = 2027\nsource = \n", "line 2", id="bad-toml"),
    pytest.param(
        HYPOTHETICAL_2027.replace("2027-02-20]", "2027-02-10]"),
        "holiday[1].workdays[1]: 2027-02-10 is a Wednesday; "
        "a make-up workday must be a Saturday or Sunday",
        id="workday-on-wednesday",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("from = 2027-01-01", "from = 2026-12-31"),
        "holiday[0].from: 2026-12-31 is not in year 2027",
        id="date-outside-year",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("2027-01-31, ", "2026-01-31, "),
        "holiday[1].workdays[0]: 2026-01-31 is not in year 2027",
        id="workday-outside-year",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("to = 2027-01-03", "to = 2027-02-06"),
        "holiday[1]: 春节 2027-02-05…2027-02-12 overlaps holiday[0]",
        id="overlapping-holidays",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("to = 2027-01-03", "to = 2026-12-30").replace(
            "from = 2027-01-01", "from = 2027-01-03"
        ),
        "holiday[0].to: 2026-12-30 is not in year 2027",
        id="to-outside-year",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("to = 2027-01-03", "to = 2027-01-01").replace(
            "from = 2027-01-01", "from = 2027-01-03"
        ),
        "holiday[0].to: 2027-01-01 is before from = 2027-01-03",
        id="to-before-from",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("2027-01-31, ", "2027-01-02, "),
        "holiday[1].workdays[0]: 2027-01-02 is a day off of holiday[0] (元旦)",
        id="off-and-workday",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace('name = "元旦"', 'name = "元旦"\ndays = 3'),
        "holiday[0].days: Extra inputs are not permitted",
        id="unknown-holiday-key",
    ),
    pytest.param(
        HYPOTHETICAL_2027 + "notice = 1\n",
        "notice: Extra inputs are not permitted",
        id="unknown-key",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace('source = "test: a made-up 2027 schedule"\n', ""),
        "source: Field required",
        id="missing-key",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("from = 2027-01-01", 'from = "2027-01-01"'),
        "holiday[0].from: Input should be a valid date",
        id="date-as-string",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("year = 2027", 'year = "2027"'),
        "year: Input should be a valid integer",
        id="year-as-string",
    ),
    pytest.param(
        HYPOTHETICAL_2027.replace("year = 2027", "year = 2100").replace("2027-", "2100-"),
        "year: 2100 is outside 2000–2099",
        id="year-out-of-range",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_calendar_file(text: str, expected: str) -> None:
    with pytest.raises(DataFileError) as info:
        parse_year_schedule(text, "calendar-2027.toml")
    message = str(info.value)
    assert message.startswith("calendar-2027.toml: ")
    assert expected in message
    assert "\n" not in message


def test_hypothetical_2027_file_is_valid() -> None:
    schedule = parse_year_schedule(HYPOTHETICAL_2027, "calendar-2027.toml")
    assert schedule.year == 2027 and schedule.source == "test: a made-up 2027 schedule"
    assert len(schedule.holidays) == 3 + 8
    assert dict(schedule.workdays) == {date(2027, 1, 31): "春节", date(2027, 2, 20): "春节"}


def test_load_year_schedule_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar-2027.toml"
    path.write_text(HYPOTHETICAL_2027.replace("2027-02-20]", "2027-02-10]"), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"calendar-2027\.toml: holiday\[1\]\.workdays\[1\]"):
        load_year_schedule(path)
    with pytest.raises(DataFileError, match="cannot read"):
        load_year_schedule(tmp_path / "missing.toml")
    path.write_bytes(b'year = 2027\nsource = "\xff"\n')
    with pytest.raises(DataFileError, match="UTF-8"):
        load_year_schedule(path)
