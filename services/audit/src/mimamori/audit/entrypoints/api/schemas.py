"""API schemas of audit (separate from tables and domain objects)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mimamori.audit.domain.checkpoint import StoredCheckpoint
from mimamori.audit.domain.ledger import LedgerEntry, outcome_code
from mimamori.audit.domain.reviews import MassLookup
from mimamori.audit.domain.verification import VerificationReport
from mimamori.audit.service_layer.queries import EntryPage, UnusualAccess, UnusualReview


class EntryRead(BaseModel):
    """One access, as the ledger holds it."""

    seq: int = Field(description="台帳の通し番号 (欠番なし)")
    event_id: str
    recorded_at: datetime = Field(description="台帳に追記した時刻")
    occurred_at: str = Field(description="アクセスの時刻 (記録元の申告, RFC 3339)")
    recorder: str = Field(description="記録したサービス")
    actor: str = Field(description="職員のアカウントID")
    roles: list[str]
    org_unit: str
    purpose: str = Field(description="利用目的コード")
    action: str
    method: str
    route: str = Field(description="ルートのテンプレート")
    person_ids: list[str] = Field(description="アクセスされた本人のID")
    outcome: str = Field(description="allowed / denied / error")
    reason: str
    trace_id: str
    decision_id: str
    break_glass: bool
    municipality_code: str
    status_code: int
    relayed_by: str = Field(
        default="",
        description="ゲートウェイの判断をアクセスの記録と同じトランザクションで記録したサービス (空欄: 記録元が送信)",
    )
    hash: str = Field(description="この行までのハッシュチェーンの値")

    @classmethod
    def of(cls, entry: LedgerEntry) -> EntryRead:
        """The API view of a ledger row (read from its hashed body)."""
        record: dict[str, Any] = entry.fields()
        return cls(
            seq=entry.seq,
            event_id=entry.event_id,
            recorded_at=entry.recorded_at,
            occurred_at=str(record.get("occurred_at", "")),
            recorder=str(record.get("recorder", "")),
            actor=str(record.get("actor", "")),
            roles=[str(r) for r in record.get("roles", [])],
            org_unit=str(record.get("org_unit", "")),
            purpose=str(record.get("purpose", "")),
            action=str(record.get("action", "")),
            method=str(record.get("method", "")),
            route=str(record.get("route", "")),
            person_ids=[str(p) for p in record.get("person_ids", [])],
            outcome=outcome_code(record.get("outcome")),
            reason=str(record.get("reason", "")),
            trace_id=str(record.get("trace_id", "")),
            decision_id=str(record.get("decision_id", "")),
            break_glass=bool(record.get("break_glass", False)),
            municipality_code=str(record.get("municipality_code", "")),
            status_code=int(record.get("status_code", 0)),
            relayed_by=str(record.get("relayed_by", "")),
            hash=entry.hash,
        )


class EntryPageRead(BaseModel):
    """One page of entries in seq order."""

    items: list[EntryRead]
    limit: int
    next_after_seq: int | None = Field(description="次のページの after_seq (最後のページでは null)")

    @classmethod
    def of(cls, page: EntryPage, *, limit: int) -> EntryPageRead:
        """The API view of a page."""
        return cls(items=[EntryRead.of(e) for e in page.entries], limit=limit, next_after_seq=page.next_after_seq)


class UnusualAccessRead(BaseModel):
    """An access flagged for review (person ids are not shown here: open the entry for them)."""

    seq: int
    event_id: str
    occurred_at: str
    actor: str
    purpose: str
    recorder: str
    outcome: str
    reasons: list[str] = Field(description="night (22:00–06:00 JST) / weekend / break_glass")

    @classmethod
    def of(cls, access: UnusualAccess) -> UnusualAccessRead:
        """The API view of a flagged access."""
        index = access.entry.index
        return cls(
            seq=access.entry.seq,
            event_id=access.entry.event_id,
            occurred_at=index.occurred_at,
            actor=index.actor,
            purpose=index.purpose,
            recorder=index.recorder,
            outcome=index.outcome,
            reasons=list(access.reasons),
        )


class MassLookupRead(BaseModel):
    """A burst in which one actor touched many persons."""

    actor: str
    window_start: datetime
    window_end: datetime
    persons: int = Field(description="時間窓内に参照した本人の最大人数")

    @classmethod
    def of(cls, burst: MassLookup) -> MassLookupRead:
        """The API view of a burst."""
        return cls(
            actor=burst.actor,
            window_start=burst.window_start,
            window_end=burst.window_end,
            persons=burst.persons,
        )


class UnusualReviewRead(BaseModel):
    """Accesses of a period that deserve a second look (アクセスレビュー)."""

    since: datetime
    until: datetime
    mass_lookup_threshold: int
    window_minutes: int
    accesses: list[UnusualAccessRead]
    mass_lookups: list[MassLookupRead]
    truncated: bool = Field(description="accesses が上限で打ち切られたか")

    @classmethod
    def of(cls, review: UnusualReview, *, threshold: int, window_minutes: int) -> UnusualReviewRead:
        """The API view of a review."""
        return cls(
            since=review.since,
            until=review.until,
            mass_lookup_threshold=threshold,
            window_minutes=window_minutes,
            accesses=[UnusualAccessRead.of(a) for a in review.accesses],
            mass_lookups=[MassLookupRead.of(b) for b in review.mass_lookups],
            truncated=review.truncated,
        )


class CheckpointRead(BaseModel):
    """A signed chain head, with the public key that verifies it (to publish outside the database)."""

    id: int
    seq: int
    hash: str
    signed_at: datetime
    key_id: str = Field(description="公開鍵のJWKサムプリント (RFC 7638)")
    token: str = Field(description="compact JWS (Ed25519) of {iss, seq, hash, signed_at, municipality}")
    public_key_pem: str
    public_jwk: dict[str, Any]

    @classmethod
    def of(cls, checkpoint: StoredCheckpoint, *, public_key_pem: str, public_jwk: dict[str, Any]) -> CheckpointRead:
        """The API view of a checkpoint."""
        return cls(
            id=checkpoint.id,
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            signed_at=checkpoint.signed_at,
            key_id=checkpoint.key_id,
            token=checkpoint.token,
            public_key_pem=public_key_pem,
            public_jwk=public_jwk,
        )


class RowFaultRead(BaseModel):
    """The first row that does not fit the chain."""

    seq: int
    event_id: str
    reason: str = Field(
        description="seq_gap / prev_hash_mismatch / hash_mismatch / body_not_canonical / index_mismatch"
    )
    expected: str
    found: str


class CheckpointFaultRead(BaseModel):
    """A checkpoint that does not hold."""

    checkpoint_id: int
    seq: int
    reason: str = Field(description="bad_signature / payload_mismatch / hash_mismatch / rows_missing")


class VerificationRead(BaseModel):
    """The verifier's report."""

    ok: bool
    rows_checked: int
    head_seq: int
    head_hash: str
    first_fault: RowFaultRead | None
    checkpoints_checked: int
    checkpoint_faults: list[CheckpointFaultRead]

    @classmethod
    def of(cls, report: VerificationReport) -> VerificationRead:
        """The API view of a report."""
        fault = report.first_fault
        return cls(
            ok=report.ok,
            rows_checked=report.rows_checked,
            head_seq=report.head_seq,
            head_hash=report.head_hash,
            first_fault=RowFaultRead(
                seq=fault.seq,
                event_id=fault.event_id,
                reason=fault.reason,
                expected=fault.expected,
                found=fault.found,
            )
            if fault is not None
            else None,
            checkpoints_checked=report.checkpoints_checked,
            checkpoint_faults=[
                CheckpointFaultRead(checkpoint_id=f.checkpoint_id, seq=f.seq, reason=f.reason)
                for f in report.checkpoint_faults
            ],
        )
