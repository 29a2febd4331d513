"""API schemas of casework (separate from tables and domain objects)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from mimamori.casework.domain.model import MAX_TEXT, ObservationCategory


class ObservationCreate(BaseModel):
    """A new 見守り情報."""

    category: ObservationCategory = Field(description="情報の入手経路")
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="見守り情報の本文 (要配慮個人情報を含みうる)")
    observed_on: date = Field(description="見守りを行った日 (未来日は不可)")


class ObservationRead(BaseModel):
    """A recorded 見守り情報."""

    id: str
    person_id: str
    category: ObservationCategory
    text: str
    observed_on: date
    recorded_by: str = Field(description="記録した職員のアカウントID")
    recorded_at: datetime


class ObservationPage(BaseModel):
    """One page of a person's 見守り情報, newest first."""

    items: list[ObservationRead]
    limit: int
    offset: int
