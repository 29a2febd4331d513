"""identity as a module of the platform."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import MetaData, Table

from mimamori.identity.adapters.tables import define_tables
from mimamori.identity.bootstrap import bootstrap
from mimamori.identity.config import IdentitySettings
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import ServiceModule


class IdentityModule(ServiceModule):
    """The master person index."""

    name = "identity"
    # Start-up order only: the audit ledger should be listening before identity's reads are recorded.
    dependencies = ("audit",)
    migrations = "mimamori.identity:migrations"

    def __init__(self) -> None:
        self.port = IdentitySettings().port
        super().__init__()

    def define_tables(self, metadata: MetaData) -> dict[str, Table]:
        return define_tables(metadata)

    async def bootstrap(self, platform: Platform) -> FastAPI:
        return bootstrap(wiring=self.wiring())


def create_module() -> IdentityModule:
    """Entry point `mimamori.modules: identity`."""
    return IdentityModule()
