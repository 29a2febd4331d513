"""和暦 (Japanese era) dates as staff type them in the Excel lists."""

from __future__ import annotations

from datetime import date
from enum import Enum

HEISEI_START = date(1989, 1, 8)
REIWA_START = date(2019, 5, 1)


class WarekiStyle(Enum):
    """How a date is written in an Excel cell."""

    SHORT = "short"  # R5.4.1, H30.12.25
    LONG = "long"  # 令和5年4月1日, 平成30年12月25日
    LONG_GANNEN = "long_gannen"  # 令和元年5月1日: the first year written as 元年 (else as LONG)
    DATE_CELL = "date_cell"  # a real Excel date cell


def era_of(day: date) -> tuple[str, str, int]:
    """(era name, era letter, year of the era) for a date in 平成 or 令和."""
    if day >= REIWA_START:
        return "令和", "R", day.year - 2018
    if day >= HEISEI_START:
        return "平成", "H", day.year - 1988
    raise ValueError("only 平成 and 令和 dates are written in 和暦 by the source systems")


def has_wareki(day: date) -> bool:
    """Whether the date falls in an era that the lists write in 和暦."""
    return day >= HEISEI_START


def format_wareki(day: date, style: WarekiStyle) -> str:
    """The date as text in the given 和暦 style (not DATE_CELL)."""
    era, letter, year = era_of(day)
    if style is WarekiStyle.SHORT:
        return f"{letter}{year}.{day.month}.{day.day}"
    if style is WarekiStyle.LONG_GANNEN and year == 1:
        return f"{era}元年{day.month}月{day.day}日"
    if style in (WarekiStyle.LONG, WarekiStyle.LONG_GANNEN):
        return f"{era}{year}年{day.month}月{day.day}日"
    raise ValueError(f"{style} is not a text style")


def wareki_cell(day: date, style: WarekiStyle) -> str | date:
    """An Excel cell value: 和暦 text, or the date itself for DATE_CELL and pre-平成 dates."""
    if style is WarekiStyle.DATE_CELL or not has_wareki(day):
        return day
    return format_wareki(day, style)
