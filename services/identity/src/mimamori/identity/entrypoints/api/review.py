"""Routes of review and correction: the queue of probable links, accept, reject, merge, unmerge; pseudonymised links."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from mimamori.identity.adapters.references import StoredReference
from mimamori.identity.domain.matching import Resident
from mimamori.identity.domain.pseudonym import pseudonym
from mimamori.identity.entrypoints.api.persons import UowDep
from mimamori.identity.service_layer import review
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem

REVIEW_ROLES = ("caseworker", "team_leader", "public_health_nurse")
QUEUE_ROUTE = "/v1/review/references"
DECIDE_ROUTE = "/v1/review/references/{reference_id}/{decision}"
MERGE_ROUTE = "/v1/merges"
UNMERGE_ROUTE = "/v1/merges/{merge_id}/unmerge"
PSEUDONYM_ROUTE = "/v1/pseudonymised/references"

router = APIRouter(tags=["名寄せの確認と訂正"])
Reviewer = Annotated[AccessContext, Depends(require(purposes=("case_support",), roles=REVIEW_ROLES))]
Analyst = Annotated[
    AccessContext, Depends(require(purposes=("criteria_design",), roles=("analyst", "contractor_analyst")))
]

_PROBLEMS = {
    "reference_not_found": (404, "該当する参照が見つかりません"),
    "person_not_found": (404, "該当する人が見つかりません"),
    "merge_not_found": (404, "該当する統合が見つかりません"),
    "same_person": (422, "同じ人どうしは統合できません"),
    "already_merged": (409, "すでに統合されています"),
    "already_unmerged": (409, "すでに統合を取り消しています"),
}


def reference_id(record_key: str, idx: int) -> str:
    """An opaque id of one reference (record keys may hold any character)."""
    return base64.urlsafe_b64encode(f"{record_key}\x1f{idx}".encode()).decode().rstrip("=")


def _parse(ref_id: str) -> tuple[str, int]:
    try:
        record_key, idx = base64.urlsafe_b64decode(ref_id + "=" * (-len(ref_id) % 4)).decode().rsplit("\x1f", 1)
        return record_key, int(idx)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(status=404, code="reference_not_found", title="該当する参照が見つかりません") from exc


def _problem(error: review.ReviewError) -> Problem:
    status, title = _PROBLEMS.get(error.code, (422, "処理できません"))
    return Problem(status=status, code=error.code, title=title)


class ResidentSide(BaseModel):
    """A resident the reference may be, as the register states them."""

    person_id: str = Field(description="個人ID")
    atena_no: str = Field(description="宛名番号")
    names: list[str] = Field(description="氏名 (現在の氏名、続いて旧氏名)")
    kanas: list[str] = Field(description="氏名カナ")
    sex: str = Field(description="性別コード")
    birth_date: str = Field(description="生年月日 (原本の値)")
    address: str | None = Field(description="住所 (個別ケース支援の目的でのみ表示)")
    resident: bool = Field(description="住民であるか (消除でない)")


class CandidateRead(BaseModel):
    """One candidate with the evidence: which fields agreed, and how."""

    person_id: str
    reason: str = Field(description="一致した項目 (例: name+kana+birth+sex)")
    evidence: dict[str, object] = Field(description="項目ごとの比較結果")
    resident: ResidentSide | None


class ReviewItemRead(BaseModel):
    """A reference waiting for review: the source side as it came, the candidates, earlier decisions."""

    reference_id: str
    record_key: str
    reference_index: int
    source: str
    file_name: str
    row: int
    role: str
    given: dict[str, object] = Field(description="原本の参照 (氏名・カナ・生年月日・住所など、受け取ったまま)")
    grade: str
    reason: str
    proposed_person_id: str | None
    candidates: list[CandidateRead]
    decisions: list[dict[str, object]]


class ReviewPage(BaseModel):
    """The queue."""

    items: list[ReviewItemRead]


class DecisionCreate(BaseModel):
    """A reviewer's decision about one candidate."""

    person_id: str = Field(min_length=1, max_length=36)


class ReferenceRead(BaseModel):
    """A reference's answer after a decision."""

    reference_id: str
    person_id: str | None
    grade: str
    reason: str
    version: int


class MergeCreate(BaseModel):
    """Two person entries that staff found to be one person."""

    surviving_person_id: str = Field(min_length=1, max_length=36)
    merged_person_id: str = Field(min_length=1, max_length=36)
    reason: str = Field(default="", max_length=500)


class MergeRead(BaseModel):
    """A merge (or its undoing)."""

    merge_id: str
    surviving_person_id: str
    merged_person_id: str
    undone: bool


class PseudonymisedReference(BaseModel):
    """A linked reference under the person's pseudonym: no name, no address, no person id."""

    pseudonym: str
    source: str
    month: str
    role: str
    grade: str


class PseudonymisedPage(BaseModel):
    """Linked references under pseudonyms."""

    items: list[PseudonymisedReference]


def _side(resident: Resident | None, *, show_address: bool) -> ResidentSide | None:
    if resident is None:
        return None
    return ResidentSide(
        person_id=resident.person_id,
        atena_no=resident.atena_no,
        names=list(resident.names),
        kanas=list(resident.kanas),
        sex=resident.sex,
        birth_date=resident.birth_raw,
        address=resident.address if show_address else None,
        resident=resident.resident,
    )


def _reference(ref: StoredReference) -> ReferenceRead:
    return ReferenceRead(
        reference_id=reference_id(ref.record_key, ref.idx),
        person_id=ref.person_id,
        grade=ref.grade,
        reason=ref.reason,
        version=ref.version,
    )


@router.get(QUEUE_ROUTE, response_model=ReviewPage, summary="名寄せの確認待ちを一覧する")
async def list_queue(
    context: Reviewer,
    uow: UowDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReviewPage:
    """References graded probable, with both sides and the evidence."""
    items = await review.review_queue(uow=uow, context=context, route=QUEUE_ROUTE, limit=limit, offset=offset)
    return ReviewPage(
        items=[
            ReviewItemRead(
                reference_id=reference_id(i.reference.record_key, i.reference.idx),
                record_key=i.reference.record_key,
                reference_index=i.reference.idx,
                source=i.reference.source,
                file_name=i.reference.provenance.file_name,
                row=i.reference.provenance.row,
                role=i.reference.reference.role,
                given=i.reference.given,
                grade=i.reference.grade,
                reason=i.reference.reason,
                proposed_person_id=i.reference.candidate_id,
                candidates=[
                    CandidateRead(
                        person_id=c["person_id"],
                        reason=c["reason"],
                        evidence={k: v for k, v in c.items() if k not in ("person_id", "reason")},
                        resident=_side(i.residents.get(c["person_id"]), show_address=True),
                    )
                    for c in i.reference.candidates
                ],
                decisions=[
                    {"person_id": d["person_id"], "decision": d["decision"], "decided_at": str(d["decided_at"])}
                    for d in i.decisions
                ],
            )
            for i in items
        ]
    )


async def _decide(
    ref_id: str, body: DecisionCreate, *, accept: bool, context: AccessContext, uow: UowDep
) -> ReferenceRead:
    record_key, idx = _parse(ref_id)
    try:
        ref = await review.decide(
            record_key, idx, person_id=body.person_id, accept=accept, uow=uow, context=context, route=DECIDE_ROUTE
        )
    except review.ReviewError as error:
        raise _problem(error) from error
    return _reference(ref)


@router.post(
    "/v1/review/references/{reference_id}/accept", response_model=ReferenceRead, summary="名寄せ候補を承認する"
)
async def accept(reference_id: str, body: DecisionCreate, context: Reviewer, uow: UowDep) -> ReferenceRead:
    """The reference is this person: the link applies."""
    return await _decide(reference_id, body, accept=True, context=context, uow=uow)


@router.post(
    "/v1/review/references/{reference_id}/reject", response_model=ReferenceRead, summary="名寄せ候補を却下する"
)
async def reject(reference_id: str, body: DecisionCreate, context: Reviewer, uow: UowDep) -> ReferenceRead:
    """The reference is certainly not this person: never proposed again."""
    return await _decide(reference_id, body, accept=False, context=context, uow=uow)


@router.post(MERGE_ROUTE, response_model=MergeRead, status_code=201, summary="二人の登録を統合する")
async def create_merge(body: MergeCreate, context: Reviewer, uow: UowDep) -> MergeRead:
    """Merge two person entries (by hand only)."""
    try:
        merge_id = await review.merge(
            surviving=body.surviving_person_id,
            merged=body.merged_person_id,
            reason=body.reason,
            uow=uow,
            context=context,
            route=MERGE_ROUTE,
        )
    except review.ReviewError as error:
        raise _problem(error) from error
    return MergeRead(
        merge_id=merge_id,
        surviving_person_id=body.surviving_person_id,
        merged_person_id=body.merged_person_id,
        undone=False,
    )


@router.post(UNMERGE_ROUTE, response_model=MergeRead, summary="統合を取り消す")
async def undo_merge(merge_id: str, context: Reviewer, uow: UowDep) -> MergeRead:
    """Undo a merge: exactly the state before it."""
    try:
        surviving, restored = await review.unmerge(merge_id, uow=uow, context=context, route=UNMERGE_ROUTE)
    except review.ReviewError as error:
        raise _problem(error) from error
    return MergeRead(merge_id=merge_id, surviving_person_id=surviving, merged_person_id=restored, undone=True)


@router.get(PSEUDONYM_ROUTE, response_model=PseudonymisedPage, summary="仮名化した名寄せ結果を読む")
async def pseudonymised(
    request: Request,
    context: Analyst,
    uow: UowDep,
    source: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PseudonymisedPage:
    """Linked references under keyed pseudonyms (判定基準の設計・評価): stable per purpose and municipality."""
    key: bytes = request.app.state.pseudonym_key
    async with uow:
        refs = uow.tables["source_references"]
        query = select(refs.c.person_id, refs.c.source, refs.c.month, refs.c.role, refs.c.grade).where(
            refs.c.person_id.is_not(None), refs.c.present.is_(True)
        )
        if source is not None:
            query = query.where(refs.c.source == source)
        rows = (
            await uow.session.execute(query.order_by(refs.c.record_key, refs.c.idx).limit(limit).offset(offset))
        ).all()
        # Pseudonymised reads are still accesses of personal data: recorded, under the pseudonyms only.
        record_access(
            uow,
            access_event(recorder="identity", context=context, action="read", method="GET", route=PSEUDONYM_ROUTE),
        )
        await uow.commit()
    return PseudonymisedPage(
        items=[
            PseudonymisedReference(
                pseudonym=pseudonym(r.person_id, purpose=context.purpose, municipality=context.municipality, key=key),
                source=r.source,
                month=r.month,
                role=r.role,
                grade=r.grade,
            )
            for r in rows
        ]
    )
