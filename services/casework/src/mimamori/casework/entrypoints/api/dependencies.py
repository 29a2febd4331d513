"""Dependencies shared by casework's routers: units of work from the service's bootstrap."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mimamori.casework.service_layer.unit_of_work import CaseworkUnitOfWork


async def unit_of_work(request: Request) -> CaseworkUnitOfWork:
    """A fresh unit of work from the service's bootstrap."""
    uow: CaseworkUnitOfWork = request.app.state.uow_factory()
    return uow


async def read_unit_of_work(request: Request) -> CaseworkUnitOfWork:
    """A unit of work for an audited read: its only change is the access record, so it runs in autocommit."""
    uow: CaseworkUnitOfWork = request.app.state.uow_factory()
    uow.autocommit = True
    return uow


UowDep = Annotated[CaseworkUnitOfWork, Depends(unit_of_work)]
ReadUowDep = Annotated[CaseworkUnitOfWork, Depends(read_unit_of_work)]
