"""Reading what a user types: dates and times (Asia/Shanghai unless an offset is given)."""

from __future__ import annotations

from datetime import date, datetime

import typer

from hotline.domain.aggregate import in_shanghai
from hotline.domain.calendar import FIRST_DAY, LAST_DAY
from hotline.domain.errors import CalendarError, InvalidInput


def parse_moment(text: str, option: str = "--at") -> datetime:
    """`2026-02-13 10:00`, `2026-02-13T10:00+08:00` or `2026-02-13` (00:00), in Shanghai."""
    try:
        written = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a date and time; write it as YYYY-MM-DD HH:MM "
            "(Asia/Shanghai), e.g. 2026-02-13 10:00"
        ) from None
    _check_in_calendar(written.date(), option)  # also keeps in_shanghai off year 1 and 9999
    moment = in_shanghai(written)
    _check_in_calendar(moment.date(), option)
    return moment


def parse_at(text: str | None, option: str = "--at") -> datetime | None:
    """When an event happened, as `--at` gives it (None: not given, so now). Empty is
    refused rather than read as now; a date alone is taken at 00:00, and stderr says so,
    since an event logged at midnight moves every limit counted from it."""
    if text is None:
        return None
    if not text.strip():
        raise InvalidInput(
            f"{option} is empty; leave it out for now, or write YYYY-MM-DD HH:MM "
            "(Asia/Shanghai), e.g. 2026-02-13 10:00"
        )
    moment = parse_moment(text, option)
    if _date_only(text):
        typer.echo(
            f"hotline: {option} {text.strip()} has no time of day; taken as {moment:%Y-%m-%d} "
            "00:00 (Asia/Shanghai)",
            err=True,
        )
    return moment


def _date_only(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def parse_day(text: str, option: str = "date") -> date:
    """An ISO date, `YYYY-MM-DD`."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-02-13"
        ) from None
    _check_in_calendar(day, option)
    return day


def _check_in_calendar(day: date, option: str) -> None:
    """Refuse a day the working-day calendar cannot count (its limits could not be judged)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise CalendarError(
            f"{option} {day} is outside the working-day calendar ({FIRST_DAY} … {LAST_DAY})"
        )
