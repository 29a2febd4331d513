"""API schemas of ingest (separate from tables and domain objects). None of them holds a personal value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from mimamori.ingest.domain.delivery import DeliveredFile, LoadRun, RunStatus


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were written in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class DeliveredFileRead(BaseModel):
    """A delivered file as kept."""

    id: str
    name: str = Field(description="ファイル名 (<データ種別>_<YYYYMM>.<拡張子>)")
    source: str = Field(description="データ種別 (レイアウト名), e.g. jumin")
    month: str = Field(description="抽出年月 YYYYMM")
    sha256: str
    size: int = Field(description="bytes")
    received_at: datetime
    accepted_at: datetime | None = Field(description="取込みが完了し受理された日時 (未受理は null)")

    @classmethod
    def of(cls, file: DeliveredFile) -> DeliveredFileRead:
        """From the domain object."""
        return cls(
            id=file.id,
            name=file.name,
            source=file.source,
            month=file.month,
            sha256=file.sha256,
            size=file.size,
            received_at=_aware(file.received_at) or file.received_at,
            accepted_at=_aware(file.accepted_at),
        )


class LoadCountsRead(BaseModel):
    """The tally of a run."""

    rows: int = Field(description="読み込んだデータ行数")
    added: int = Field(description="新規")
    changed: int = Field(description="変更")
    unchanged: int = Field(description="変更なし")
    removed: int = Field(description="削除 (全件データにない)")
    quarantined: int = Field(description="隔離した行数")


class LoadErrorRead(BaseModel):
    """Why a run was rejected or failed."""

    code: str
    message: str = Field(description="日本語の説明 (ファイル名・行番号を示し、値は含まない)")


class LoadRunRead(BaseModel):
    """One load run."""

    id: str
    status: RunStatus
    file: DeliveredFileRead
    duplicate: bool = Field(description="受理済みのファイルと同一内容 (変更なし)")
    duplicate_of: str | None = Field(description="同一内容の受理済みファイルの ID")
    total_rows: int | None
    counts: LoadCountsRead
    progress: float = Field(ge=0.0, le=1.0)
    removals_withheld: bool = Field(
        description="宛名番号が読めない行があったため、削除 (全件データにない記録) の判定を保留した"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: LoadErrorRead | None

    @classmethod
    def of(cls, run: LoadRun) -> LoadRunRead:
        """From the domain object."""
        error = None
        if run.error_code:
            error = LoadErrorRead(code=run.error_code, message=run.error_message or "")
        return cls(
            id=run.id,
            status=run.status,
            file=DeliveredFileRead.of(run.file),
            duplicate=run.duplicate_of is not None,
            duplicate_of=run.duplicate_of,
            total_rows=run.total_rows,
            counts=LoadCountsRead(**run.counts),
            progress=run.progress,
            removals_withheld=run.removals_withheld,
            created_at=_aware(run.created_at) or run.created_at,
            started_at=_aware(run.started_at),
            finished_at=_aware(run.finished_at),
            error=error,
        )


class LoadRunPage(BaseModel):
    """One page of runs, newest first."""

    items: list[LoadRunRead]
    total: int
    limit: int
    offset: int


class QuarantineRowRead(BaseModel):
    """One problem of a quarantined row."""

    row: int = Field(description="行番号 (見出し行を除き 1 から)")
    column: str = Field(description="列名 (行全体の問題は空)")
    reason_code: str
    reason: str = Field(description="理由 (ファイル・行・列を示し、値は含まない)")

    @classmethod
    def of(cls, row: dict[str, Any]) -> QuarantineRowRead:
        """From a quarantine row."""
        return cls(row=row["row"], column=row["column"], reason_code=row["reason_code"], reason=row["reason"])


class QuarantinePage(BaseModel):
    """One page of a run's quarantine, by row."""

    items: list[QuarantineRowRead]
    total: int
    limit: int
    offset: int


class FreeTextField(BaseModel):
    """One free-text column of a record."""

    column: str = Field(description="列名 (概要, 主訴, 備考, 相談メモ, 理由)")
    text: str = Field(description="自由記述 (要配慮個人情報を含みうる)")


class FreeTextRead(BaseModel):
    """The free text of one source record."""

    record_key: str
    source: str = Field(description="データ種別")
    fields: list[FreeTextField]
