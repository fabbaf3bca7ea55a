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
    """When an event happened, as `--at` gives it (None: not given, so now); empty is
    refused rather than read as now."""
    if text is None:
        return None
    if not text.strip():
        raise InvalidInput(
            f"{option} {text!r} is empty; leave it out for now, or write YYYY-MM-DD HH:MM "
            "(Asia/Shanghai), e.g. 2026-02-13 10:00"
        )
    return parse_moment(text, option)


def say_assumed_time(text: str | None, option: str = "--at") -> None:
    """After an event given a date alone was recorded: say on stderr that it was taken at
    00:00, since a time of day moves the limits counted from it."""
    if text is None:
        return
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return
    typer.echo(
        f"hotline: {option} {day} has no time of day; taken as {day} 00:00 (Asia/Shanghai)",
        err=True,
    )


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
