"""Routes of persons: search by 宛名番号 or kana and birth date, and read one person."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request

from mimamori.identity.domain.disclosure import disclosed_address
from mimamori.identity.domain.model import REMOVED, Link, SourceDate, SourceRecord
from mimamori.identity.domain.relationships import is_head
from mimamori.identity.entrypoints.api.schemas import (
    HouseholdMemberRead,
    HouseholdRead,
    HouseholdStayRead,
    LinkedReferenceRead,
    NameHistoryRead,
    PersonPage,
    PersonRead,
    PersonSummary,
    ProvenanceRead,
    RelationshipRead,
    SourceDateRead,
    SourceGroupRead,
    SourceRecordRead,
)
from mimamori.identity.service_layer import views
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem

PURPOSES = ("case_support", "early_detection", "eligibility_check")
ROLES = (
    "caseworker",
    "public_health_nurse",
    "midwife",
    "childcare_worker",
    "school_social_worker",
    "education_supervisor",
    "team_leader",
)
SEARCH_ROUTE = "/v1/persons"
PERSON_ROUTE = "/v1/persons/{person_id}"
JST = ZoneInfo("Asia/Tokyo")

router = APIRouter(prefix="/v1/persons", tags=["個人"])
PersonReader = Annotated[AccessContext, Depends(require(purposes=PURPOSES, roles=ROLES))]


def unit_of_work(request: Request) -> IdentityUnitOfWork:
    """A fresh unit of work from the service's bootstrap."""
    uow: IdentityUnitOfWork = request.app.state.uow_factory()
    return uow


UowDep = Annotated[IdentityUnitOfWork, Depends(unit_of_work)]


def _date(value: SourceDate) -> SourceDateRead:
    return SourceDateRead(raw=value.raw, iso=value.parsed)


def _summary(found: views.PersonSummary) -> PersonSummary:
    record = found.record
    return PersonSummary(
        id=found.person.id,
        atena_no=found.person.atena_no,
        name=record.values.name if record else "",
        name_kana=record.values.name_kana if record else "",
        sex=record.values.sex if record else "",
        birth_date=_date(record.values.birth_date if record else SourceDate()),
        resident_status=record.resident_status if record else REMOVED,
    )


def _source_record(record: SourceRecord, link: Link, *, hidden: bool) -> SourceRecordRead:
    v, p = record.values, record.provenance
    return SourceRecordRead(
        record_key=record.record_key,
        grade=link.grade,
        reason=link.reason,
        linked_at=link.linked_at,
        present=record.present,
        version=record.version,
        provenance=ProvenanceRead(
            file_name=p.file_name, row=p.row, file_sha256=p.file_sha256, load_run_id=p.load_run_id
        ),
        atena_no=v.atena_no,
        setai_code=v.setai_code,
        name=v.name,
        name_kana=v.name_kana,
        sex=v.sex,
        birth_date=_date(v.birth_date),
        zokugara=v.zokugara,
        address=disclosed_address(record, hidden=hidden),
        resident_status=record.resident_status,
        change_reason=v.change_reason,
        change_date=_date(v.change_date),
    )


def _household(view: views.HouseholdView) -> HouseholdRead:
    return HouseholdRead(
        id=view.household.id if view.household else None,
        setai_code=view.setai_code,
        version=view.household.version if view.household else 0,
        members=[
            HouseholdMemberRead(
                person_id=person_id,
                name=record.values.name,
                name_kana=record.values.name_kana,
                zokugara=record.values.zokugara,
                sex=record.values.sex,
                birth_date=_date(record.values.birth_date),
                is_head=is_head(record.values.zokugara),
                resident_status=record.resident_status,
            )
            for record, person_id in view.members
        ],
        relationships=[
            RelationshipRead(person_id=r.person_id, kind=r.kind, relative_id=r.relative_id) for r in view.relationships
        ],
        parents=list(view.parents),
        single_parent=len(view.parents) == 1,
    )


def _person(view: views.PersonView) -> PersonRead:
    record, hidden = view.record, view.address_hidden
    groups: dict[str, list[SourceRecordRead]] = {}
    for linked, link in view.linked:
        groups.setdefault(linked.source, []).append(_source_record(linked, link, hidden=hidden))
    return PersonRead(
        id=view.person.id,
        atena_no=view.person.atena_no,
        name=record.values.name if record else "",
        name_kana=record.values.name_kana if record else "",
        sex=record.values.sex if record else "",
        birth_date=_date(record.values.birth_date if record else SourceDate()),
        address=disclosed_address(record, hidden=hidden) if record else None,
        address_hidden=hidden,
        resident_status=record.resident_status if record else REMOVED,
        sources=[SourceGroupRead(source=source, records=records) for source, records in sorted(groups.items())],
        household=_household(view.household) if view.household else None,
        name_history=[
            NameHistoryRead(
                name=n.name,
                name_kana=n.name_kana,
                change_reason=n.change_reason,
                change_date=_date(n.change_date),
                recorded_at=n.recorded_at,
            )
            for n in view.names
        ],
        household_history=[
            HouseholdStayRead(
                household_id=s.household_id,
                setai_code=s.setai_code,
                joined_on=s.joined_on,
                joined_at=s.joined_at,
                left_on=s.left_on,
                left_at=s.left_at,
            )
            for s in view.stays
        ],
        linked_references=[
            LinkedReferenceRead(
                source=r.source,
                month=r.month,
                file_name=r.provenance.file_name,
                row=r.provenance.row,
                role=r.reference.role,
                grade=r.grade,
                reason=r.reason,
                present=r.present,
            )
            for r in view.references
        ],
    )


@router.get("", response_model=PersonPage, summary="個人を検索する")
async def search_persons(
    context: PersonReader,
    uow: UowDep,
    atena_no: Annotated[str | None, Query(pattern=r"^[0-9]{10}$", description="宛名番号 (10桁, 完全一致)")] = None,
    name_kana: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="氏名カナ (全角・半角・ひらがな可, 空白無視)"),
    ] = None,
    birth_date: Annotated[date | None, Query(description="生年月日 (YYYY-MM-DD, 氏名カナと併せて指定)")] = None,
) -> PersonPage:
    """Persons by exact 宛名番号, or by 氏名カナ and 生年月日 together."""
    if atena_no is None and (name_kana is None or birth_date is None):
        raise Problem(
            status=422,
            code="search_criteria_missing",
            title="宛名番号、または氏名カナと生年月日を指定してください",
        )
    if (name_kana is None) != (birth_date is None):
        raise Problem(
            status=422,
            code="kana_and_birth_date_together",
            title="氏名カナと生年月日は併せて指定してください",
        )
    found = await views.find_persons(
        uow=uow,
        context=context,
        route=SEARCH_ROUTE,
        atena_no=atena_no,
        name_kana=name_kana,
        birth_date=birth_date,
    )
    return PersonPage(items=[_summary(s) for s in found])


@router.get("/{person_id}", response_model=PersonRead, summary="個人の情報を読む")
async def read_person(person_id: str, context: PersonReader, uow: UowDep) -> PersonRead:
    """One person: current facts, source records with provenance, household and relationships, histories."""
    try:
        view = await views.read_person(
            person_id, uow=uow, context=context, route=PERSON_ROUTE, today=datetime.now(JST).date()
        )
    except views.PersonNotFound as exc:
        raise Problem(status=404, code="person_not_found", title="該当する人が見つかりません") from exc
    return _person(view)
