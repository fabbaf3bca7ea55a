"""Reading what a user types: dates and times (Asia/Shanghai unless an offset is given)."""

from __future__ import annotations

from datetime import date, datetime

from hotline.domain.aggregate import in_shanghai
from hotline.domain.errors import InvalidInput


def parse_moment(text: str, option: str = "--at") -> datetime:
    """`2026-02-13 10:00`, `2026-02-13T10:00+08:00` or `2026-02-13` (00:00), in Shanghai."""
    try:
        return in_shanghai(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a date and time; write it as YYYY-MM-DD HH:MM "
            "(Asia/Shanghai), e.g. 2026-02-13 10:00"
        ) from None


def parse_day(text: str, option: str = "date") -> date:
    """An ISO date, `YYYY-MM-DD`."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-02-13"
        ) from None
