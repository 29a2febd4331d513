"""Calendar months, school years and school days of the synthetic town."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; `code` is the YYYYMM of file names."""

    year: int
    month: int

    @classmethod
    def parse(cls, code: str) -> Month:
        """Read a YYYYMM code."""
        if len(code) != 6 or not code.isdigit() or not 1 <= int(code[4:]) <= 12:
            raise ValueError(f"not a YYYYMM month: {code!r}")
        return cls(int(code[:4]), int(code[4:]))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month that holds `day`."""
        return cls(day.year, day.month)

    @property
    def code(self) -> str:
        return f"{self.year:04d}{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def shift(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def day(self, number: int) -> date:
        """Day `number` of the month, clamped to the month's length."""
        return date(self.year, self.month, min(number, self.last_day.day))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of the target month."""
    return Month.of(day).shift(months).day(day.day)


def school_year(day: date) -> int:
    """The school and fiscal year (年度, April–March) that holds `day`."""
    return day.year if day.month >= 4 else day.year - 1


def grade_on(birth: date, day: date) -> int:
    """School grade on `day` (1–6 小学校, 7–9 中学校; ≤0 before school, ≥10 after).

    A child born 2 April … 1 April of the next year forms one cohort (早生まれ belong to the year before).
    """
    cohort = birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1
    return school_year(day) - cohort - 6


def age_on(birth: date, day: date) -> int:
    """Age in full years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


_VACATIONS: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((3, 25), (4, 6)),  # 春休み
    ((4, 29), (5, 6)),  # ゴールデンウィーク
    ((7, 21), (8, 31)),  # 夏休み
    ((12, 25), (12, 31)),  # 冬休み
    ((1, 1), (1, 7)),
)


@cache
def school_days(month: Month) -> tuple[date, ...]:
    """Weekdays of the month outside school holidays."""
    days: list[date] = []
    day = month.first_day
    while day <= month.last_day:
        in_vacation = any(start <= (day.month, day.day) <= end for start, end in _VACATIONS)
        if day.weekday() < 5 and not in_vacation:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)
