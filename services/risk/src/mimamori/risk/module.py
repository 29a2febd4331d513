"""risk as a module of the platform."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import MetaData, Table

from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import ServiceModule
from mimamori.risk.adapters.tables import define_tables
from mimamori.risk.bootstrap import bootstrap, seed
from mimamori.risk.config import RiskSettings


class RiskModule(ServiceModule):
    """The per-child read model (later: rule sets, assessments, alerts)."""

    name = "risk"
    dependencies = ("identity", "audit")
    migrations = "mimamori.risk:migrations"

    def __init__(self) -> None:
        self.port = RiskSettings().port
        super().__init__()

    def define_tables(self, metadata: MetaData) -> dict[str, Table]:
        return define_tables(metadata)

    async def bootstrap(self, platform: Platform) -> FastAPI:
        app = bootstrap(wiring=self.wiring())
        await seed(app.state.uow_factory)
        return app


def create_module() -> RiskModule:
    """Entry point `mimamori.modules: risk`."""
    return RiskModule()
