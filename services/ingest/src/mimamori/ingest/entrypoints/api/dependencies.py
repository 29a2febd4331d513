"""What ingest's routes share: who may call them, and the service's wiring on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mimamori.ingest.service_layer.handlers import Loading
from mimamori.ingest.service_layer.unit_of_work import IngestUnitOfWork
from mimamori.ingest.service_layer.worker import LoadWorker
from mimamori.kit.auth import AccessContext, require

PURPOSES = ("system_operation",)
ROLES = ("data_officer", "sysadmin")

SystemOperation = Annotated[AccessContext, Depends(require(purposes=PURPOSES, roles=ROLES))]


def unit_of_work(request: Request) -> IngestUnitOfWork:
    """A fresh unit of work from the service's bootstrap."""
    uow: IngestUnitOfWork = request.app.state.uow_factory()
    return uow


def loading(request: Request) -> Loading:
    """What loading needs."""
    value: Loading = request.app.state.loading
    return value


def worker(request: Request) -> LoadWorker:
    """The background loader."""
    value: LoadWorker = request.app.state.worker
    return value


UowDep = Annotated[IngestUnitOfWork, Depends(unit_of_work)]
LoadingDep = Annotated[Loading, Depends(loading)]
WorkerDep = Annotated[LoadWorker, Depends(worker)]
