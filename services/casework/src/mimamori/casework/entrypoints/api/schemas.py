"""API schemas of casework (separate from tables and domain objects)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from mimamori.casework.domain.case import MAX_ASSIGNEES, MAX_NOTE, CaseStatus, DeclineReason, Difficulty
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


class CaseOriginSchema(BaseModel):
    """The risk assessment a case came from (候補リストから受理した場合)."""

    rule_id: str = Field(min_length=1, max_length=64, description="リスク判定ルールのID (例: young_carer)")
    rule_version: int = Field(ge=1, description="ルールのバージョン")
    month: str = Field(pattern=r"^\d{6}$", description="判定の対象月 YYYYMM")
    alert_id: str = Field(default="", max_length=64, description="アラートID (アラートから来た場合)")


class CaseCreate(BaseModel):
    """A new case (検討中 / triage)."""

    person_id: str = Field(min_length=1, max_length=36, description="こどもの人ID")
    difficulty_types: list[Difficulty] = Field(min_length=1, description="困難の類型 (リスク判定ルールのID)")
    origin: CaseOriginSchema | None = Field(default=None, description="候補リストのどの判定から来たか")
    assignees: list[str] = Field(default_factory=list, max_length=MAX_ASSIGNEES, description="担当職員のアカウントID")
    note: str = Field(default="", max_length=MAX_NOTE, description="記録 (casework の中だけに保存、イベントには出ない)")


class CaseTransitionCreate(BaseModel):
    """A status change: triage→accepted|declined, accepted→conference|closed, conference→support|closed,
    support→closed."""

    to: CaseStatus = Field(description="移行先の状態")
    note: str = Field(default="", max_length=MAX_NOTE, description="記録 (casework の中だけに保存)")
    reason: DeclineReason | None = Field(default=None, description="見送りの理由 (declined のときだけ、必須)")
    risk_level: int | None = Field(
        default=None, ge=1, le=4, description="リスクレベル 1–4 (図表9)。受理には設定済みかここで指定が必要"
    )
    expected_version: int | None = Field(default=None, ge=1, description="読んだときのバージョン (競合の検出)")


class CaseUpdate(BaseModel):
    """Set the risk level and/or the assignees."""

    risk_level: int | None = Field(default=None, ge=1, le=4, description="リスクレベル 1–4 (図表9、職員が判断)")
    assignees: list[str] | None = Field(
        default=None, max_length=MAX_ASSIGNEES, description="担当職員のアカウントID (一覧を置き換える)"
    )
    expected_version: int | None = Field(default=None, ge=1, description="読んだときのバージョン (競合の検出)")


class StatusChangeRead(BaseModel):
    """One step of a case's history."""

    from_status: CaseStatus | None
    to_status: CaseStatus
    by: str = Field(description="職員のアカウントID")
    at: datetime
    note: str


class CaseRead(BaseModel):
    """A case with its history."""

    id: str
    person_id: str
    difficulty_types: list[Difficulty]
    status: CaseStatus = Field(
        description="triage 検討中 / accepted 受理 / conference カンファレンス / support 支援中 / "
        "closed 終結 / declined 見送り"
    )
    risk_level: int | None = Field(description="リスクレベル 1–4 (未設定は null)")
    decline_reason: DeclineReason | None
    origin: CaseOriginSchema | None
    assignees: list[str]
    opened_by: str
    opened_at: datetime
    version: int = Field(description="変更のたびに増える")
    duplicate_open_case: bool = Field(
        default=False,
        description="名寄せの統合で同じこどもに終結していないケースが2件以上ある (どれを続けるかは職員が判断)",
    )
    history: list[StatusChangeRead]


class CasePage(BaseModel):
    """One page of cases, newest first."""

    total: int
    items: list[CaseRead]
    limit: int
    offset: int
