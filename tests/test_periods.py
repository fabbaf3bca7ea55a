"""Reporting periods (domain.md §6): assessment years, their quarters, months, ranges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import pairwise

import pytest

from hotline.domain.errors import CalendarError, InvalidInput
from hotline.domain.periods import Period, assessment_year, date_range, parse_period

Cli = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        # 考核年度 2019 = 2018-11-01 … 2019-10-31 (review-2019)
        ("2019", date(2018, 11, 1), date(2019, 10, 31), "2019"),
        ("2026", date(2025, 11, 1), date(2026, 10, 31), "2026"),
        # quarters: Nov–Jan, Feb–Apr, May–Jul, Aug–Oct
        ("2019Q1", date(2018, 11, 1), date(2019, 1, 31), "2019Q1"),
        ("2019Q2", date(2019, 2, 1), date(2019, 4, 30), "2019Q2"),
        ("2019Q3", date(2019, 5, 1), date(2019, 7, 31), "2019Q3"),
        ("2019Q4", date(2019, 8, 1), date(2019, 10, 31), "2019Q4"),
        ("2020q2", date(2020, 2, 1), date(2020, 4, 30), "2020Q2"),
        # calendar months
        ("2019-03", date(2019, 3, 1), date(2019, 3, 31), "2019-03"),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28), "2019-02"),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29), "2020-02"),  # leap year
        ("2019-12", date(2019, 12, 1), date(2019, 12, 31), "2019-12"),
        ("2019-11", date(2019, 11, 1), date(2019, 11, 30), "2019-11"),
        (" 2019Q1 ", date(2018, 11, 1), date(2019, 1, 31), "2019Q1"),
    ],
)
def test_period_forms(text: str, start: date, end: date, label: str) -> None:
    assert parse_period(text) == Period(start, end, label)


def test_the_quarters_tile_the_assessment_year() -> None:
    year = assessment_year(2019)
    quarters = [parse_period(f"2019Q{q}") for q in range(1, 5)]
    assert quarters[0].start == year.start
    assert quarters[-1].end == year.end
    for before, after in pairwise(quarters):
        assert (after.start - before.end).days == 1
    assert sum((q.end - q.start).days + 1 for q in quarters) == 365


@pytest.mark.parametrize(
    "text",
    ["19", "20190", "2019Q0", "2019Q5", "Q1 2019", "2019-13", "2019-00", "2019-3", "2019/03",
     "2019-03-01", "", "last year"],
)  # fmt: skip
def test_bad_forms_are_refused_listing_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(text)
    message = str(refused.value)
    assert repr(text.strip()) in message
    assert "2019Q1" in message and "2019-03" in message and "(2019)" in message
    assert "--from" in message


def test_a_range_is_any_days_both_included() -> None:
    period = date_range(date(2019, 3, 5), date(2019, 3, 5))
    assert (period.start, period.end) == (date(2019, 3, 5), date(2019, 3, 5))
    assert date_range(date(2019, 2, 28), date(2019, 4, 1)).label == "2019-02-28 … 2019-04-01"


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"ends \(2019-03-01\) before it starts"):
        date_range(date(2019, 3, 2), date(2019, 3, 1))


def test_the_cli_refuses_bad_periods_in_one_line(cli: Cli, store: str) -> None:
    code, _, err = cli("report", "rates", "--from", "2019-03-02", "--to", "2019-03-01")
    assert code == 1
    assert "before it starts" in err and err.count("\n") == 1
    code, _, err = cli("report", "rates", "--period", "2019Q5")
    assert code == 1 and "'2019Q5' is not an assessment year (2019)" in err
    code, _, err = cli("report", "rates", "--period", "2019", "--from", "2019-01-01")
    assert code == 1 and "not both" in err
    code, _, err = cli("report", "rates", "--from", "2019-01-01")
    assert code == 1 and "both --from and --to" in err


@pytest.mark.parametrize("text", ["1999", "2000", "2000Q1", "1999-12", "2100", "2100Q1", "2100-01"])
def test_a_period_outside_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(CalendarError, match=r"outside the working-day calendar \(2000-01-01"):
        parse_period(text)


@pytest.mark.parametrize("text", ["2000-01", "2000Q2", "2099", "2099-12"])
def test_the_calendar_s_first_and_last_periods_are_taken(text: str) -> None:
    period = parse_period(text)
    assert date(2000, 1, 1) <= period.start and period.end <= date(2099, 12, 31)


def test_the_cli_refuses_a_period_outside_the_calendar(cli: Cli, store: str) -> None:
    for text in ("1999", "2100"):
        code, out, err = cli("report", "rates", "--period", text)
        assert code == 1 and out == ""
        assert f"period {text} (" in err and "outside the working-day calendar" in err
        assert err.count("\n") == 1
