"""Reporting periods (domain.md §6).

The assessment year (考核年度) runs 1 November – 31 October and is named by the
year it ends in: `2019` is 2018-11-01 … 2019-10-31 (review-2019). Its quarters are
Nov–Jan (`2019Q1`), Feb–Apr, May–Jul, Aug–Oct. A calendar month is `2019-03`;
any range is `--from/--to`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from hotline.domain.calendar import FIRST_DAY, LAST_DAY
from hotline.domain.errors import CalendarError, InvalidInput

_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})Q([1-4])", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_FORMS = "an assessment year (2019), a quarter (2019Q1 … 2019Q4) or a month (2019-03)"


@dataclass(frozen=True)
class Period:
    """Days `start` … `end`, both included."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(f"period {self.label}: it ends ({self.end}) before it starts")


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def assessment_year(year: int) -> Period:
    """考核年度 `year`: 1 November of the year before to 31 October."""
    return Period(date(year - 1, 11, 1), date(year, 10, 31), f"{year}")


def parse_period(text: str) -> Period:
    """`2019`, `2019Q3` or `2019-03`; anything else is refused with the forms allowed, and
    so is a period with a day the working-day calendar cannot count (as a date would be)."""
    period = _parsed(text.strip())
    if period.start < FIRST_DAY or period.end > LAST_DAY:
        raise CalendarError(
            f"period {period.label} ({period.start} … {period.end}) is outside the working-day "
            f"calendar ({FIRST_DAY} … {LAST_DAY})"
        )
    return period


def _parsed(text: str) -> Period:
    try:
        if match := _YEAR.fullmatch(text):
            return assessment_year(int(match[1]))
        if match := _QUARTER.fullmatch(text):
            year, quarter = int(match[1]), int(match[2])
            start = _month_start(year - 1, 11 + 3 * (quarter - 1))
            end = _month_start(start.year, start.month + 3) - timedelta(days=1)
            return Period(start, end, f"{year}Q{quarter}")
        if match := _MONTH.fullmatch(text):
            start = date(int(match[1]), int(match[2]), 1)
            end = _month_start(start.year, start.month + 1) - timedelta(days=1)
            return Period(start, end, text)
    except ValueError:
        pass
    raise InvalidInput(f"period {text!r} is not {_FORMS}; or give --from and --to")


def date_range(start: date, end: date) -> Period:
    """Any range of days, both included."""
    return Period(start, end, f"{start} … {end}")


class Step(StrEnum):
    """What a trend steps by: calendar months, or the assessment year's quarters."""

    MONTH = "month"
    QUARTER = "quarter"


def _step_of(day: date, step: Step) -> Period:
    """The month or quarter `day` falls in."""
    if step is Step.MONTH:
        return parse_period(f"{day:%Y-%m}")
    year = day.year + (day.month >= 11)
    return parse_period(f"{year}Q{(day.month - 11) % 12 // 3 + 1}")


def steps(period: Period, step: Step) -> list[Period]:
    """`period` cut into months or quarters, in order; one it only partly covers is cut to
    the days it covers, and named by them (`2019-03-05 … 2019-03-31`)."""
    found: list[Period] = []
    day = period.start
    while day <= period.end:
        whole = _step_of(day, step)
        if whole.start < period.start or whole.end > period.end:
            whole = date_range(max(whole.start, period.start), min(whole.end, period.end))
        found.append(whole)
        day = whole.end + timedelta(days=1)
    return found


def month_span(first: str, last: str, step: Step = Step.MONTH) -> list[Period]:
    """The months (or quarters) from month `first` to month `last` (`2018-11`, `2019-10`),
    both included; with quarters, `first` must begin one and `last` end one."""
    start, end = (_month(text, flag) for text, flag in ((first, "--from"), (last, "--to")))
    if end.start < start.start:
        raise InvalidInput(f"--to {last} is before --from {first}")
    found = steps(Period(start.start, end.end, f"{first} … {last}"), step)
    if any(_step_of(p.start, step) != p for p in found):
        raise InvalidInput(
            f"--by quarter needs whole quarters: --from a quarter's first month (11, 2, 5, 8) "
            f"and --to its last (1, 4, 7, 10), not {first} … {last}"
        )
    return found


def _month(text: str, flag: str) -> Period:
    try:
        if _MONTH.fullmatch(text.strip()):
            return parse_period(text)
    except InvalidInput:
        pass
    raise InvalidInput(f"{flag} {text!r}: give a month, YYYY-MM (2018-11)")
