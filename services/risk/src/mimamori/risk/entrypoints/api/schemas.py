"""API schemas of risk (separate from tables and domain objects)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from mimamori.risk.domain.household import Child
from mimamori.risk.domain.month import AssessmentMonth


class ChildRead(BaseModel):
    """A child as of the last day of a month: household, parents and younger siblings."""

    person_id: str
    household_id: str
    month: str = Field(description="対象月 YYYYMM")
    as_of: date = Field(description="基準日 (対象月の末日): 年齢はこの日で判定")
    generation: str = Field(description="世帯主との続柄: 子 または 孫")
    age: int | None = Field(description="基準日の満年齢 (生年月日が不詳で定まらないときは null)")
    school_grade: int | None = Field(description="学年 1–9 (小1–中3); 学齢外は null")
    parents: list[str] = Field(description="親 (同一世帯・18歳以上・住民) の人ID")
    single_parent: bool = Field(description="ひとり親 (親がちょうど1人)")
    younger_siblings: list[str] = Field(description="弟妹 (同一世帯・同世代・生年月日が後) の人ID")

    @classmethod
    def of(cls, child: Child, month: AssessmentMonth) -> ChildRead:
        """The schema of a derived child view."""
        return cls(
            person_id=child.person_id,
            household_id=child.household_id,
            month=str(month),
            as_of=child.as_of,
            generation=child.generation,
            age=child.age,
            school_grade=child.school_grade,
            parents=list(child.parent_ids),
            single_parent=child.single_parent,
            younger_siblings=list(child.younger_sibling_ids),
        )


class HouseholdSummaryRead(BaseModel):
    """A household as of the last day of a month: its size and its children."""

    household_id: str
    version: int = Field(description="identity の世帯バージョン")
    month: str
    as_of: date
    member_count: int = Field(description="世帯員数 (消除を含む)")
    resident_count: int = Field(description="住民である世帯員数")
    children: list[ChildRead]


class CandidateRead(BaseModel):
    """One candidate: a person id and the explanation, or only a pseudonym under criteria_design."""

    person_id: str | None = Field(default=None, description="人ID (criteria_design では出ない)")
    pseudonym: str | None = Field(default=None, description="仮名 (criteria_design のときだけ)")
    total: int | None = Field(description="合計点")
    subscores: dict[str, int] = Field(description="中分類ごとの点")
    school: str = Field(description="学校コード")
    grade: str = Field(description="学年")
    age_band: str = Field(description="年齢帯")
    rule_version: int = Field(description="判定したルールのバージョン")
    has_open_case: bool = Field(description="casework に終結・見送り以外のケースがある")
    case_status: str | None = Field(
        description="そのケースの状態: triage 検討中 / accepted 受理 / conference カンファレンス / support 支援中 "
        "(ケースがなければ null)"
    )
    explanation: dict[str, Any] | None = Field(
        default=None, description="説明の木: 合計 ← 中分類 ← 項目 ← 事実 (ファイル・行) (criteria_design では出ない)"
    )


class CandidatePage(BaseModel):
    """One page of a month's candidates, highest total first."""

    month: str = Field(description="対象月 YYYYMM")
    total: int = Field(description="絞り込み後の候補数")
    page: int
    size: int
    items: list[CandidateRead]
