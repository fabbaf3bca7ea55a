"""The statutory holidays (全国年节及纪念日放假办法, as revised for 2025) of a year with no
published schedule, computed (domain.md §4).

Every year has these days off by law; the yearly 国务院办公厅 notice only adds the bridge
days and make-up workdays (调休), which nobody can compute. So a year before its notice
still has 元旦, 春节, 清明, 劳动节, 端午, 中秋 and 国庆, and only its 调休 is unknown:
deadlines over it stay provisional. The lunar dates come from `lunardate` (a maintained,
pure-Python lunar calendar, 1900–2099: chinesecalendar has no lunar conversion); 清明 is
the solar term, from chinesecalendar's own `get_solar_terms`.
"""

from __future__ import annotations

from datetime import date, timedelta

from chinese_calendar import get_solar_terms
from lunardate import LunarDate

STATUTORY_FROM = 2025
"""The revision's first year (in force from 2025-01-01): earlier years had other days off."""


def _lunar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def statutory_holidays(year: int) -> dict[date, str]:
    """The days off by law in `year` (from `STATUTORY_FROM`), each with its holiday's name."""
    if year < STATUTORY_FROM:
        raise ValueError(f"the 2025 holiday rules do not cover {year}")
    spring = _lunar(year, 1, 1)
    april = get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    qingming = next(day for day, term in april if term == "清明")
    return {
        date(year, 1, 1): "元旦",
        # 春节: 除夕 (the eve of 正月初一) to 初三, four days.
        **{spring + timedelta(days=n): "春节" for n in range(-1, 3)},
        qingming: "清明",
        date(year, 5, 1): "劳动节",
        date(year, 5, 2): "劳动节",
        _lunar(year, 5, 5): "端午",
        _lunar(year, 8, 15): "中秋",
        **{date(year, 10, n): "国庆节" for n in (1, 2, 3)},
    }
