"""ingest as a module of the platform."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import MetaData, Table

from mimamori.ingest.adapters.demo_town import generate_demo_town, read_hint
from mimamori.ingest.adapters.file_store import file_chunks
from mimamori.ingest.adapters.tables import define_tables
from mimamori.ingest.bootstrap import bootstrap
from mimamori.ingest.config import IngestSettings
from mimamori.ingest.entrypoints.drop_folder import DropFolder
from mimamori.ingest.service_layer import handlers
from mimamori.ingest.service_layer.handlers import Loading
from mimamori.ingest.service_layer.worker import LoadWorker
from mimamori.kit.auth import AccessContext
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import ServiceModule

log = logging.getLogger("mimamori.ingest")

DEMO_MONTH = "202604"


class IngestModule(ServiceModule):
    """Delivered files, load runs, quarantine, source records."""

    name = "ingest"
    dependencies = ()
    migrations = "mimamori.ingest:migrations"

    def __init__(self) -> None:
        self.settings = IngestSettings()
        self.port = self.settings.port
        self._demo_dir: Path | None = None
        self._demo_hint: str | None = None
        self.drop_folder: DropFolder | None = None
        super().__init__()

    def define_tables(self, metadata: MetaData) -> dict[str, Table]:
        return define_tables(metadata)

    async def bootstrap(self, platform: Platform) -> FastAPI:
        return bootstrap(wiring=self.wiring(), settings=self.settings)

    @property
    def worker(self) -> LoadWorker:
        """The background loader (after start)."""
        assert self.app is not None
        worker: LoadWorker = self.app.state.worker
        return worker

    @property
    def loading(self) -> Loading:
        """What loading needs (after start)."""
        assert self.app is not None
        loading: Loading = self.app.state.loading
        return loading

    async def start(self, platform: Platform) -> None:
        """Migrate, wire, relay; resume interrupted loads; seed the demo town (embedded form only)."""
        await super().start(platform)
        for run_id in await handlers.resume_runs(uow=self.loading.uow()):
            self.worker.submit(run_id)
        await self.worker.start()
        self._demo_dir = platform.settings.data_dir / "ingest" / "demo"
        if platform.embedded and self.settings.seed_demo:
            await self.seed_demo_town(platform)
        if self.settings.drop_dir is not None:
            self.drop_folder = DropFolder(
                self.settings.drop_dir, deliver=self._deliver_dropped, poll_seconds=self.settings.drop_poll_seconds
            )
            self.drop_folder.start()

    async def _deliver_dropped(self, path: Path) -> str:
        """A settled file of the drop folder: kept and queued like an upload, by the drop folder as its sender."""
        assert self.platform is not None
        context = AccessContext(
            subject="ingest:drop-folder",
            roles=["data_officer"],
            purpose=handlers.PURPOSE,
            decision_id="",
            municipality=self.platform.settings.municipality_code,
        )
        run = await handlers.receive_file(
            path.name,
            chunks=file_chunks(path),
            loading=self.loading,
            context=context,
            route="drop-folder",
            max_bytes=self.settings.max_upload_bytes,
        )
        self.worker.submit(run.id)
        return run.id

    async def seed_demo_town(self, platform: Platform) -> None:
        """When nothing was ever loaded: generate the demo town (fast), queue its jumin (loaded later)."""
        assert self._demo_dir is not None
        async with self.loading.uow() as uow:
            if await uow.runs.count() > 0:
                self._demo_hint = await asyncio.to_thread(read_hint, self._demo_dir)
                return
        town = await asyncio.to_thread(
            generate_demo_town,
            self._demo_dir,
            municipality=platform.settings.municipality_code,
            month=DEMO_MONTH,
        )
        if town is None:
            return
        self._demo_hint = town.child_atena
        context = AccessContext(
            subject="ingest:demo-town",
            roles=["sysadmin"],
            purpose=handlers.PURPOSE,
            decision_id="",
            municipality=platform.settings.municipality_code,
        )
        run = await handlers.receive_file(
            town.jumin.name,
            chunks=file_chunks(town.jumin),
            loading=self.loading,
            context=context,
            route="demo-town",
            max_bytes=self.settings.max_upload_bytes,
        )
        self.worker.submit(run.id)
        log.info("demo town queued", extra={"run_id": run.id})

    def demo_hint(self) -> str | None:
        """The 宛名番号 of a demo child (resident, school age, no 支援措置), for the gateway's banner."""
        if self._demo_hint is None and self._demo_dir is not None:
            self._demo_hint = read_hint(self._demo_dir)
        return self._demo_hint

    async def on_stop(self) -> None:
        if self.drop_folder is not None:
            await self.drop_folder.stop()
            self.drop_folder = None
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.worker.stop()

    async def backlog(self) -> int:
        """Unsent outbox rows plus loads not yet finished: the platform is idle only when both are done."""
        pending = self.worker.pending if self.app is not None else 0
        return pending + await super().backlog()


def create_module() -> IngestModule:
    """Entry point `mimamori.modules: ingest`."""
    return IngestModule()
