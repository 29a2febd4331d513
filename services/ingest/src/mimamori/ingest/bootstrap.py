"""The one place where ingest is wired together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from mimamori.ingest.adapters.events import mapper_for
from mimamori.ingest.adapters.file_store import FileStore
from mimamori.ingest.adapters.layouts import load_layouts
from mimamori.ingest.config import IngestSettings
from mimamori.ingest.entrypoints.api import files, load_runs, records
from mimamori.ingest.service_layer.handlers import Loading, load_delivery
from mimamori.ingest.service_layer.unit_of_work import IngestUnitOfWork
from mimamori.ingest.service_layer.worker import LoadWorker
from mimamori.kit.http import create_service_app
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import Wiring


def files_dir(settings: IngestSettings, platform: Platform) -> Path:
    """Where delivered bytes are kept: the setting, else <data_dir>/ingest/files."""
    return settings.files_dir or platform.settings.data_dir / "ingest" / "files"


def bootstrap(*, wiring: Wiring, settings: IngestSettings) -> FastAPI:
    """Build ingest's unit of work, loader and app (the loader is on app.state for the module to start)."""
    platform = wiring.platform
    factory: Callable[[], IngestUnitOfWork] = wiring.units(IngestUnitOfWork, tables=wiring.tables)
    layouts = load_layouts(platform.settings.municipality_code)
    loading = Loading(
        uow=factory,
        store=FileStore(files_dir(settings, platform)),
        layouts=layouts,
        mappers={source: mapper_for(layout) for source, layout in layouts.items()},
        municipality=platform.settings.municipality_code,
        batch_size=settings.batch_size,
    )

    async def load(run_id: str) -> object:
        return await load_delivery(run_id, loading=loading)

    app = create_service_app(
        name="ingest",
        title="Mimamori ingest",
        description="ファイル受付と取込み (delivered source files, load runs, quarantine)",
        verifier=platform.context_verifier,
        uow_factory=factory,
        loading=loading,
        worker=LoadWorker(load=load),
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.include_router(files.router)
    app.include_router(load_runs.router)
    app.include_router(records.router)
    return app
