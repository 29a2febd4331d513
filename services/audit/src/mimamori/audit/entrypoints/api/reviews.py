"""Access reviews: night and weekend use (JST), break-glass, mass lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from mimamori.audit.entrypoints.api.dependencies import Auditor, SettingsDep, UowDep
from mimamori.audit.entrypoints.api.schemas import UnusualReviewRead
from mimamori.audit.service_layer import queries
from mimamori.kit.problems import Problem

ROUTE = "/v1/reviews/unusual"
DEFAULT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=92)

router = APIRouter(prefix="/v1/reviews", tags=["アクセスレビュー"])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@router.get("/unusual", response_model=UnusualReviewRead, summary="通常と異なるアクセスを確認する")
async def review_unusual(
    context: Auditor,
    uow: UowDep,
    settings: SettingsDep,
    since: Annotated[datetime | None, Query(description="既定: until の7日前")] = None,
    until: Annotated[datetime | None, Query(description="既定: 現在")] = None,
    mass_threshold: Annotated[int | None, Query(ge=1, description="1時間にこの人数を超えると大量参照")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> UnusualReviewRead:
    """Flagged accesses of a period (at most `limit`) and every mass-lookup burst in it."""
    end = _aware(until) if until is not None else datetime.now(UTC)
    start = _aware(since) if since is not None else end - DEFAULT_PERIOD
    if not start < end or end - start > MAX_PERIOD:
        raise Problem(status=422, code="invalid_period", title="期間の指定が正しくありません (最長92日)")
    threshold = mass_threshold or settings.mass_lookup_threshold
    review = await queries.review_unusual(
        uow=uow,
        context=context,
        route=ROUTE,
        since=start,
        until=end,
        threshold=threshold,
        window=timedelta(minutes=settings.mass_lookup_window_minutes),
        limit=limit,
    )
    return UnusualReviewRead.of(review, threshold=threshold, window_minutes=settings.mass_lookup_window_minutes)
