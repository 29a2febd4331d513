"""The assessment month and its last day."""

from __future__ import annotations

from datetime import date

import pytest

from mimamori.risk.domain.month import AssessmentMonth, InvalidMonth


@pytest.mark.parametrize(
    ("text", "last_day"),
    [("202603", date(2026, 3, 31)), ("202402", date(2024, 2, 29)), ("202502", date(2025, 2, 28))],
)
def test_month_is_assessed_as_of_its_last_day(text: str, last_day: date) -> None:
    month = AssessmentMonth.parse(text)
    assert month.last_day == last_day
    assert str(month) == text


@pytest.mark.parametrize("text", ["202613", "202600", "2026-03", "20263", "abcdef", ""])
def test_text_that_is_not_a_month_is_rejected(text: str) -> None:
    with pytest.raises(InvalidMonth):
        AssessmentMonth.parse(text)


def test_month_containing_a_day() -> None:
    assert AssessmentMonth.containing(date(2026, 4, 1)) == AssessmentMonth(2026, 4)
