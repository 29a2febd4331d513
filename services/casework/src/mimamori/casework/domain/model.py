"""見守り情報 (observations): what staff saw or heard about a child, kept in casework only."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

MAX_TEXT = 4000


class ObservationCategory(enum.StrEnum):
    """How the information reached staff."""

    HOME_VISIT = "家庭訪問"
    PHONE = "電話"
    VISIT_TO_OFFICE = "来所相談"
    SCHOOL = "学校からの情報"
    NURSERY = "保育所からの情報"
    OTHER_AGENCY = "関係機関からの情報"
    OTHER = "その他"


class ObservationRejected(ValueError):
    """An observation that cannot be recorded; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Observation:
    """One 見守り情報 about one person."""

    person_id: str
    category: ObservationCategory
    text: str
    observed_on: date
    recorded_by: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def record(
        cls,
        *,
        person_id: str,
        category: ObservationCategory,
        text: str,
        observed_on: date,
        recorded_by: str,
        today: date,
    ) -> Observation:
        """A new observation, checked: text present and bounded, not dated in the future."""
        stripped = text.strip()
        if not stripped:
            raise ObservationRejected("observation_text_empty")
        if len(stripped) > MAX_TEXT:
            raise ObservationRejected("observation_text_too_long")
        if observed_on > today:
            raise ObservationRejected("observation_in_future")
        return cls(
            person_id=person_id, category=category, text=stripped, observed_on=observed_on, recorded_by=recorded_by
        )
