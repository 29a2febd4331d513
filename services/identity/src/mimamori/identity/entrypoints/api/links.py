"""Route of the link export: one line per person reference in a source record (paged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mimamori.identity.entrypoints.api.persons import UowDep
from mimamori.identity.service_layer.export import link_lines
from mimamori.kit.auth import AccessContext, require

LINKS_ROUTE = "/v1/links"
router = APIRouter(tags=["名寄せ結果の出力"])
Exporter = Annotated[
    AccessContext, Depends(require(purposes=("early_detection",), roles=("team_leader", "caseworker")))
]


class LinkRead(BaseModel):
    """One person reference and the person it links to."""

    source: str = Field(description="出典システム")
    file: str = Field(description="ファイル名")
    row: int = Field(description="行番号 (見出し行を除き1から)")
    role: str = Field(description="行の中での役割")
    person_id: str = Field(description="個人ID (自動で確定した、または確認で承認したときのみ)")
    atena_no: str = Field(description="その人の宛名番号 (なければ空)")
    grade: str = Field(description="名寄せの確度")


class LinkPage(BaseModel):
    """A page of the export; `next_offset` is null after the last page."""

    items: list[LinkRead]
    next_offset: int | None


@router.get(LINKS_ROUTE, response_model=LinkPage, summary="名寄せ結果を出力する")
async def export_links(
    context: Exporter,
    uow: UowDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=20000)] = 5000,
) -> LinkPage:
    """Links of every person reference, a page at a time."""
    lines = await link_lines(uow=uow, offset=offset, limit=limit, context=context, route=LINKS_ROUTE)
    return LinkPage(
        items=[LinkRead(**{f: getattr(line, f) for f in LinkRead.model_fields}) for line in lines],
        next_offset=offset + len(lines) if len(lines) == limit else None,
    )
