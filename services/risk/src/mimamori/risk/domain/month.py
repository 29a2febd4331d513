"""The assessment month: a calendar month `YYYYMM`, assessed as of its last day (D)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_PATTERN = re.compile(r"^(\d{4})(\d{2})$")


class InvalidMonth(ValueError):
    """A text that is not a calendar month `YYYYMM`."""


@dataclass(frozen=True, slots=True, order=True)
class AssessmentMonth:
    """One calendar month; every age-dependent fact of the month is taken on its last day."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise InvalidMonth(f"{self.year:04d}{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> AssessmentMonth:
        """The month named by `YYYYMM`; raises InvalidMonth otherwise."""
        found = _PATTERN.match(text)
        if found is None:
            raise InvalidMonth(text)
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def containing(cls, day: date) -> AssessmentMonth:
        """The month a day falls in."""
        return cls(day.year, day.month)

    @property
    def last_day(self) -> date:
        """D: the day the month is assessed as of."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    def shift(self, months: int) -> AssessmentMonth:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return AssessmentMonth(index // 12, index % 12 + 1)

    @property
    def school_year(self) -> int:
        """年度 (April–March) the month belongs to."""
        return self.year if self.month >= 4 else self.year - 1

    def __str__(self) -> str:
        return f"{self.year:04d}{self.month:02d}"
