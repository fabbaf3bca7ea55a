"""The official holiday schedules (法定节假日安排) shipped in the chinesecalendar package.

chinesecalendar keeps one dict of days off and one of make-up workdays (调休上班), each
date -> the English value of its `Holiday` enum; the enum member carries the Chinese name
(`.chinese`, e.g. "春节", "清明", "中秋"). The years it covers are, as the package itself
defines them, every year from the first to the last year of its days off.
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import version

from chinese_calendar import constants

from hotline.domain.calendar import YearSchedule

__all__ = ["official_schedules"]


def _chinese_name(value: object) -> str:
    holiday = value if isinstance(value, constants.Holiday) else constants.Holiday(value)
    return str(holiday.chinese)


def official_schedules() -> list[YearSchedule]:
    """One `YearSchedule` per year chinesecalendar covers, oldest first."""
    source = f"chinesecalendar {version('chinesecalendar')}"
    off: dict[date, object] = constants.holidays
    work: dict[date, object] = constants.workdays
    first, last = min(off).year, max(off).year
    schedules = []
    for year in range(first, last + 1):
        schedules.append(
            YearSchedule(
                year=year,
                holidays={d: _chinese_name(v) for d, v in off.items() if d.year == year},
                workdays={d: _chinese_name(v) for d, v in work.items() if d.year == year},
                source=source,
            )
        )
    return schedules
