"""audit as a module of the platform."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import MetaData, Table

from mimamori.audit.adapters.tables import define_tables
from mimamori.audit.bootstrap import AuditService, bootstrap
from mimamori.audit.config import AuditSettings
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import ServiceModule


class AuditModule(ServiceModule):
    """The append-only, hash-chained audit ledger and its signed checkpoints."""

    name = "audit"
    dependencies = ()
    migrations = "mimamori.audit:migrations"

    def __init__(self) -> None:
        self.settings = AuditSettings()
        self.port = self.settings.port
        self.service: AuditService | None = None
        super().__init__()

    def define_tables(self, metadata: MetaData) -> dict[str, Table]:
        return define_tables(metadata)

    async def bootstrap(self, platform: Platform) -> FastAPI:
        self.service = bootstrap(wiring=self.wiring(), settings=self.settings)
        self.service.schedule.start()
        return self.service.app

    async def on_stop(self) -> None:
        if self.service is not None:
            await self.service.schedule.stop()


def create_module() -> AuditModule:
    """Entry point `mimamori.modules: audit`."""
    return AuditModule()
