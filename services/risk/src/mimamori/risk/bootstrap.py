"""The one place where risk is wired together."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mimamori.kit.http import create_service_app
from mimamori.kit.messaging.outbox import Outbox
from mimamori.kit.runtime.module import Platform
from mimamori.risk.entrypoints import consumers
from mimamori.risk.entrypoints.api import children, households
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork


def bootstrap(
    *,
    platform: Platform,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    inbox: Table,
    tables: dict[str, Table],
) -> FastAPI:
    """Build risk's unit of work, consumers and app."""

    def uow_factory() -> RiskUnitOfWork:
        return RiskUnitOfWork(
            tables=tables,
            sessions=sessions,
            outbox=outbox,
            inbox=inbox,
            source="risk",
            municipality=platform.settings.municipality_code,
        )

    factory: Callable[[], RiskUnitOfWork] = uow_factory
    consumers.subscribe(platform.bus, uow=factory, retries=platform.settings.consumer_retries)
    app = create_service_app(
        name="risk",
        title="Mimamori risk",
        description="こどもの世帯・親・弟妹 (the per-child read model)",
        verifier=platform.context_verifier,
        uow_factory=factory,
    )
    app.include_router(children.router)
    app.include_router(households.router)
    return app
