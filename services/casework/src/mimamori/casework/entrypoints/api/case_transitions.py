"""Route of a case's status changes (受理, カンファレンス, 支援中, 終結, 見送り), for 個別ケース支援."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from mimamori.casework.domain.case import CaseRejected
from mimamori.casework.entrypoints.api.cases import CASE_ERRORS, CaseSupport, case_problem, case_read, rejected
from mimamori.casework.entrypoints.api.dependencies import UowDep
from mimamori.casework.entrypoints.api.schemas import CaseRead, CaseTransitionCreate
from mimamori.casework.service_layer import cases

ROUTE = "/v1/cases/{case_id}/transitions"

router = APIRouter(prefix="/v1/cases/{case_id}/transitions", tags=["ケース"])


@router.post("", status_code=201, response_model=CaseRead, summary="ケースの状態を進める")
async def transition_case(case_id: str, body: CaseTransitionCreate, context: CaseSupport, uow: UowDep) -> CaseRead:
    """Move a case to its next status; an invalid step is refused with a code (422)."""
    command = cases.TransitionCase(
        case_id=case_id,
        to=body.to,
        note=body.note,
        reason=body.reason,
        risk_level=body.risk_level,
        expected_version=body.expected_version,
    )
    try:
        case, duplicate = await cases.transition_case(
            command, uow=uow, context=context, route=ROUTE, now=datetime.now(UTC)
        )
    except CaseRejected as exc:
        raise rejected(exc) from exc
    except CASE_ERRORS as exc:
        raise case_problem(exc) from exc
    return case_read(case, duplicate_open_case=duplicate)
