"""risk as a module of the platform."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import MetaData, Table

from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import ServiceModule
from mimamori.risk.adapters.tables import define_tables
from mimamori.risk.bootstrap import bootstrap, seed
from mimamori.risk.config import RiskSettings
from mimamori.risk.service_layer.rescore_runs import RescoreWorker
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork


class RiskModule(ServiceModule):
    """The per-child read model, rules, assessments, alerts, and the worker of full re-scores."""

    name = "risk"
    dependencies = ("identity", "audit")
    migrations = "mimamori.risk:migrations"

    def __init__(self) -> None:
        self.settings = RiskSettings()
        self.port = self.settings.port
        self.worker: RescoreWorker | None = None
        super().__init__()

    def define_tables(self, metadata: MetaData) -> dict[str, Table]:
        return define_tables(metadata)

    async def bootstrap(self, platform: Platform) -> FastAPI:
        app = bootstrap(wiring=self.wiring(), settings=self.settings)
        await seed(app.state.uow_factory)
        self.worker = app.state.rescore_worker
        self.worker.start()
        return app

    async def on_stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None

    async def backlog(self) -> int:
        """Unsent outbox rows plus unfinished re-score runs (so `wait_idle` waits for them too)."""
        unsent = await super().backlog()
        if self._app is None:
            return unsent
        uow: RiskUnitOfWork = self._app.state.uow_factory()
        async with uow:
            return unsent + await uow.runs.unfinished()


def create_module() -> RiskModule:
    """Entry point `mimamori.modules: risk`."""
    return RiskModule()
