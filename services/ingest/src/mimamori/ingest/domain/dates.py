"""Dates as the town's systems write them: western forms, 和暦 (Japanese era) in the styles staff type, and Excel
serial numbers. Each parser returns the calendar date or None; nothing here guesses or corrects a value."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Era:
    """One 元号: its names and the first day (the next era's first day ends it)."""

    name: str
    letter: str
    first_day: dt.date


# The day each era began. 明治 is counted from 1868-01-25 (the first day of 明治元年 by the Gregorian
# calendar, as the 改元の詔 applied it from the start of the year).
ERAS: tuple[Era, ...] = (
    Era("明治", "M", dt.date(1868, 1, 25)),
    Era("大正", "T", dt.date(1912, 7, 30)),
    Era("昭和", "S", dt.date(1926, 12, 25)),
    Era("平成", "H", dt.date(1989, 1, 8)),
    Era("令和", "R", dt.date(2019, 5, 1)),
)
_BY_KEY = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}

# R5.4.1, H30.12.25, S64/1/7, R元.5.1 — and 令和5年4月1日, 平成元年1月8日 (spaces allowed around parts).
_SHORT = re.compile(r"^([MTSHR])\s*(元|\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{1,2})$")
_LONG = re.compile(r"^(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_WESTERN = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")

EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_EXCEL_FAKE_LEAP_DAY = 60  # Excel's 1900-02-29, a day that never was


class OutsideEra(ValueError):
    """A 和暦 date that its era does not contain (e.g. 平成31年5月1日, 昭和64年1月8日)."""


def _calendar(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_wareki(raw: str) -> dt.date | None:
    """A 和暦 date in any style listed for the Excel lists; None when it is not one, OutsideEra when the era
    does not contain it. Full-width digits and letters are read as their ASCII forms (the raw value is kept)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _SHORT.match(text) or _LONG.match(text)
    if match is None:
        return None
    era = _BY_KEY[match[1]]
    year_of_era = 1 if match[2] == "元" else int(match[2])
    if year_of_era < 1:
        return None
    day = _calendar(era.first_day.year + year_of_era - 1, int(match[3]), int(match[4]))
    if day is None:
        return None
    index = ERAS.index(era)
    ends = ERAS[index + 1].first_day if index + 1 < len(ERAS) else None
    if day < era.first_day or (ends is not None and day >= ends):
        raise OutsideEra(raw)
    return day


def parse_western(raw: str, *, separator: str) -> dt.date | None:
    """`YYYY-MM-DD` or `YYYY/MM/DD` (month and day may lack their leading zero, as date cells show them)."""
    match = _WESTERN.match(raw)
    if match is None or match[2] != separator:
        return None
    return _calendar(int(match[1]), int(match[3]), int(match[4]))


def parse_excel_serial(raw: str) -> dt.date | None:
    """An Excel serial day number (1900 date system): 1 = 1900-01-01, 60 (1900-02-29) does not exist."""
    text = raw[:-2] if raw.endswith(".0") else raw
    if not (text.isascii() and text.isdigit()) or len(text) > 7:
        return None
    serial = int(text)
    if serial < 1 or serial > EXCEL_MAX_SERIAL or serial == _EXCEL_FAKE_LEAP_DAY:
        return None
    if serial < _EXCEL_FAKE_LEAP_DAY:
        return dt.date(1899, 12, 31) + dt.timedelta(days=serial)
    return EXCEL_EPOCH + dt.timedelta(days=serial)


def parse_datetime(raw: str) -> dt.datetime | None:
    """`YYYY-MM-DD HH:MM` (seconds allowed, as a date-time cell shows them)."""
    match = _DATETIME.match(raw)
    if match is None:
        return None
    try:
        return dt.datetime(
            int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5]), int(match[6] or 0)
        )
    except ValueError:
        return None
