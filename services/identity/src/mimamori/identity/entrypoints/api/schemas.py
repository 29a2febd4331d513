"""API schemas of identity (separate from tables and domain objects)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from mimamori.identity.domain.model import LinkReason, MatchGrade
from mimamori.identity.domain.relationships import Kinship


class SourceDateRead(BaseModel):
    """A date as the source wrote it, with its calendar form."""

    raw: str = Field(description="原本どおりの値 (例: 19500000 は月日不詳)")
    iso: date | None = Field(description="暦日として解釈できる場合の日付; 不詳・暦にない日付は null")


class ProvenanceRead(BaseModel):
    """Where a source record's values came from."""

    file_name: str = Field(description="取込ファイル名")
    row: int = Field(description="ファイル内の行番号 (見出し行を除き1から)")
    file_sha256: str = Field(description="ファイルのSHA-256")
    load_run_id: str = Field(description="取込処理のID")


class SourceRecordRead(BaseModel):
    """One source record linked to the person, with its values as delivered."""

    record_key: str = Field(description="原本レコードのキー")
    grade: MatchGrade = Field(description="名寄せの確度 (certain=確実, probable=可能性高, possible=可能性あり)")
    reason: LinkReason = Field(description="名寄せの根拠 (atena_no=宛名番号一致)")
    linked_at: datetime = Field(description="名寄せした日時")
    present: bool = Field(description="最新の全件データに含まれているか (false=データから削除)")
    version: int = Field(description="原本レコードの版 (値が変わるたびに増える)")
    provenance: ProvenanceRead = Field(description="出典 (ファイルと行)")
    atena_no: str = Field(description="宛名番号")
    setai_code: str = Field(description="世帯コード")
    name: str = Field(description="氏名 (法定の文字のまま; 異体字・IVS・外字を含みうる)")
    name_kana: str = Field(description="氏名カナ (原本のまま)")
    sex: str = Field(description="性別コード (原本のまま; 1=男, 2=女)")
    birth_date: SourceDateRead = Field(description="生年月日")
    zokugara: str = Field(description="続柄 (世帯主との関係)")
    address: str | None = Field(description="住所; 支援措置対象者は null")
    resident_status: str = Field(description="住民区分 (住民/消除)")
    change_reason: str = Field(description="異動事由")
    change_date: SourceDateRead = Field(description="異動日")


class SourceGroupRead(BaseModel):
    """The person's records from one source."""

    source: str = Field(description="出典システム (例: jumin=住民記録)")
    records: list[SourceRecordRead] = Field(description="この出典の原本レコード")


class HouseholdMemberRead(BaseModel):
    """A member of the person's household."""

    person_id: str = Field(description="個人ID")
    name: str = Field(description="氏名")
    name_kana: str = Field(description="氏名カナ")
    zokugara: str = Field(description="続柄 (世帯主との関係)")
    sex: str = Field(description="性別コード (1=男, 2=女)")
    birth_date: SourceDateRead = Field(description="生年月日")
    is_head: bool = Field(description="世帯主であるか")
    resident_status: str = Field(description="住民区分 (住民/消除)")


class RelationshipRead(BaseModel):
    """`relative_id` is the `kind` of `person_id`."""

    person_id: str = Field(description="本人の個人ID")
    kind: Kinship = Field(description="続柄から導いた関係 (parent=親, child=子, sibling=きょうだい, ほか)")
    relative_id: str = Field(description="相手の個人ID")


class HouseholdRead(BaseModel):
    """The household of the person's current record."""

    id: str | None = Field(description="世帯ID (世帯の変更通知を出す前は null)")
    setai_code: str = Field(description="世帯コード")
    version: int = Field(description="世帯の変更通知の版")
    members: list[HouseholdMemberRead] = Field(description="世帯員 (消除者を含む)")
    relationships: list[RelationshipRead] = Field(description="世帯員どうしの関係 (続柄から導出)")
    parents: list[str] = Field(description="本人の親 (同一世帯・18歳以上・住民; 本日時点)")
    single_parent: bool = Field(description="ひとり親 (親がちょうど1人; 本日時点)")


class NameHistoryRead(BaseModel):
    """A name a person's record has carried."""

    name: str = Field(description="氏名")
    name_kana: str = Field(description="氏名カナ")
    change_reason: str = Field(description="その時点の異動事由")
    change_date: SourceDateRead = Field(description="その時点の異動日")
    recorded_at: datetime = Field(description="記録した日時")


class HouseholdStayRead(BaseModel):
    """A period the person spent in one household."""

    household_id: str = Field(description="世帯ID")
    setai_code: str = Field(description="世帯コード")
    joined_on: str = Field(description="異動日 (原本の値)")
    joined_at: datetime = Field(description="記録した日時")
    left_on: str | None = Field(description="転出・世帯変更の異動日 (在籍中は null)")
    left_at: datetime | None = Field(description="離脱を記録した日時")


class PersonSummary(BaseModel):
    """A person found by a search (no address)."""

    id: str = Field(description="個人ID")
    atena_no: str | None = Field(description="宛名番号")
    name: str = Field(description="氏名")
    name_kana: str = Field(description="氏名カナ")
    sex: str = Field(description="性別コード (1=男, 2=女)")
    birth_date: SourceDateRead = Field(description="生年月日")
    resident_status: str = Field(description="住民区分 (住民/消除)")


class PersonPage(BaseModel):
    """The persons matching a search."""

    items: list[PersonSummary] = Field(description="該当者")


class LinkedReferenceRead(BaseModel):
    """A row of another source that names the person, linked (certain, or accepted in review)."""

    source: str = Field(description="出典システム")
    month: str = Field(description="抽出年月 (YYYYMM)")
    file_name: str = Field(description="取込ファイル名")
    row: int = Field(description="ファイル内の行番号 (見出し行を除き1から)")
    role: str = Field(description="行の中での役割 (child=児童, recipient=受給者, guardian=保護者 など)")
    grade: str = Field(description="名寄せの確度")
    reason: str = Field(description="名寄せの根拠 (一致した項目)")
    present: bool = Field(description="最新のデータに含まれているか")


class PersonRead(BaseModel):
    """Everything identity knows of one person."""

    id: str = Field(description="個人ID")
    atena_no: str | None = Field(description="宛名番号")
    name: str = Field(description="氏名 (法定の文字のまま)")
    name_kana: str = Field(description="氏名カナ")
    sex: str = Field(description="性別コード (1=男, 2=女)")
    birth_date: SourceDateRead = Field(description="生年月日 (原本の値と暦日)")
    address: str | None = Field(description="住所; 支援措置対象者は常に null")
    address_hidden: bool = Field(description="DV等支援措置のため住所を表示しない")
    resident_status: str = Field(description="住民区分 (住民/消除)")
    sources: list[SourceGroupRead] = Field(description="名寄せされた原本レコード (出典ごと)")
    household: HouseholdRead | None = Field(description="現在の世帯")
    name_history: list[NameHistoryRead] = Field(description="氏名の履歴 (古い順)")
    household_history: list[HouseholdStayRead] = Field(description="世帯の所属履歴 (古い順)")
    linked_references: list[LinkedReferenceRead] = Field(
        default_factory=list, description="他の出典の行でこの人を指すもの (出典ごと)"
    )
