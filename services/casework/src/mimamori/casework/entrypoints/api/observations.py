"""Routes of 見守り情報: record and read, for 個別ケース支援 only."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mimamori.casework.domain.model import Observation, ObservationRejected
from mimamori.casework.entrypoints.api.dependencies import ReadUowDep, UowDep
from mimamori.casework.entrypoints.api.schemas import ObservationCreate, ObservationPage, ObservationRead
from mimamori.casework.service_layer import handlers
from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem

PURPOSES = ("case_support",)
ROLES = ("caseworker", "public_health_nurse", "midwife", "childcare_worker", "school_social_worker", "team_leader")
ROUTE = "/v1/persons/{person_id}/observations"

router = APIRouter(prefix="/v1/persons/{person_id}/observations", tags=["見守り情報"])
CaseSupport = Annotated[AccessContext, Depends(require(purposes=PURPOSES, roles=ROLES))]


def _read(observation: Observation) -> ObservationRead:
    return ObservationRead(
        id=observation.id,
        person_id=observation.person_id,
        category=observation.category,
        text=observation.text,
        observed_on=observation.observed_on,
        recorded_by=observation.recorded_by,
        recorded_at=observation.recorded_at,
    )


@router.post("", status_code=201, response_model=ObservationRead, summary="見守り情報を記録する")
async def create_observation(
    person_id: str, body: ObservationCreate, context: CaseSupport, uow: UowDep
) -> ObservationRead:
    """Record a 見守り情報 about a person."""
    command = handlers.RecordObservation(
        person_id=person_id, category=body.category, text=body.text, observed_on=body.observed_on
    )
    try:
        observation = await handlers.record_observation(
            command, uow=uow, context=context, route=ROUTE, today=date.today()
        )
    except handlers.PersonNotFound as exc:
        raise Problem(status=404, code="person_not_found", title="該当する人が見つかりません") from exc
    except ObservationRejected as exc:
        raise Problem(status=422, code=exc.code) from exc
    return _read(observation)


@router.get("", response_model=ObservationPage, summary="見守り情報を読む")
async def read_observations(
    person_id: str,
    context: CaseSupport,
    uow: ReadUowDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ObservationPage:
    """A person's 見守り情報, newest first."""
    try:
        observations = await handlers.list_observations(
            person_id, uow=uow, context=context, route=ROUTE, limit=limit, offset=offset
        )
    except handlers.PersonNotFound as exc:
        raise Problem(status=404, code="person_not_found", title="該当する人が見つかりません") from exc
    return ObservationPage(items=[_read(o) for o in observations], limit=limit, offset=offset)
