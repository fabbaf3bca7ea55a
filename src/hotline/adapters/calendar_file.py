"""A year's holiday schedule entered by a user as a TOML file.

When the State Council publishes a new year's schedule (国务院办公厅关于…年部分节假日安排的
通知, usually in November) before the chinesecalendar package has it, a user writes it
down as data (dates below are made up)::

    year = 2027
    source = "国务院办公厅关于2027年部分节假日安排的通知"
    [[holiday]]
    name = "春节"
    from = 2027-02-05          # first day off
    to = 2027-02-11            # last day off (weekends inside included)
    workdays = [2027-02-13]    # make-up workdays (调休上班), may be omitted

Every problem raises `DataFileError` with one line naming the file, the key and the
problem. Keys are written as in the file, lists indexed from 0: `holiday[1].workdays[0]`.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hotline.adapters.toml_file import parse_toml, read_toml, validate
from hotline.domain.calendar import FIRST_DAY, LAST_DAY, YearSchedule
from hotline.domain.errors import CalendarError, DataFileError

__all__ = ["load_year_schedule", "parse_year_schedule"]

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _HolidayEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(min_length=1)
    first: date = Field(alias="from")
    to: date
    workdays: list[date] = Field(default_factory=list)


class _YearFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    year: int
    source: str = Field(min_length=1)
    holiday: list[_HolidayEntry] = Field(min_length=1)


def load_year_schedule(path: Path) -> YearSchedule:
    """Read and validate a year-schedule TOML file."""
    return _from_raw(read_toml(path, "calendar year file"), str(path))


def parse_year_schedule(text: str, origin: str) -> YearSchedule:
    """Validate the TOML `text` of a year schedule; `origin` names it in error messages."""
    return _from_raw(parse_toml(text, origin), origin)


def _from_raw(raw: dict[str, Any], origin: str) -> YearSchedule:
    parsed = validate(_YearFile, raw, origin)
    try:
        return _to_schedule(parsed)
    except _Problem as problem:
        raise DataFileError(f"{origin}: {problem.key}: {problem.message}") from None
    except CalendarError as exc:  # pragma: no cover - the checks above come first
        raise DataFileError(f"{origin}: {exc}") from exc


class _Problem(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _to_schedule(parsed: _YearFile) -> YearSchedule:
    year = parsed.year
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise _Problem("year", f"{year} is outside {FIRST_DAY.year}–{LAST_DAY.year}")

    def in_year(key: str, day: date) -> None:
        if day.year != year:
            raise _Problem(key, f"{day.isoformat()} is not in year {year}")

    off: dict[date, str] = {}
    off_by: dict[date, int] = {}
    for i, entry in enumerate(parsed.holiday):
        here = f"holiday[{i}]"
        in_year(f"{here}.from", entry.first)
        in_year(f"{here}.to", entry.to)
        if entry.to < entry.first:
            raise _Problem(
                f"{here}.to",
                f"{entry.to.isoformat()} is before from = {entry.first.isoformat()}",
            )
        for day in _days(entry.first, entry.to):
            if day in off_by:
                j = off_by[day]
                other = parsed.holiday[j]
                raise _Problem(
                    here,
                    f"{entry.name} {entry.first.isoformat()}…{entry.to.isoformat()} overlaps "
                    f"holiday[{j}] ({other.name} {other.first.isoformat()}…"
                    f"{other.to.isoformat()}) on {day.isoformat()}",
                )
            off_by[day] = i
            off[day] = entry.name

    work: dict[date, str] = {}
    for i, entry in enumerate(parsed.holiday):
        for k, day in enumerate(entry.workdays):
            key = f"holiday[{i}].workdays[{k}]"
            in_year(key, day)
            if day.weekday() < 5:
                raise _Problem(
                    key,
                    f"{day.isoformat()} is a {_WEEKDAY_NAMES[day.weekday()]}; "
                    "a make-up workday must be a Saturday or Sunday",
                )
            if day in off:
                raise _Problem(
                    key,
                    f"{day.isoformat()} is a day off of holiday[{off_by[day]}] ({off[day]}); "
                    "a day can't be both off and a workday",
                )
            if day in work:
                raise _Problem(key, f"{day.isoformat()} is listed twice as a make-up workday")
            work[day] = entry.name

    return YearSchedule(year=year, holidays=off, workdays=work, source=parsed.source)
