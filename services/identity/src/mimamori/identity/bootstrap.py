"""The one place where identity is wired together."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mimamori.identity.entrypoints import consumers
from mimamori.identity.entrypoints.api import persons
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.http import create_service_app
from mimamori.kit.messaging.outbox import Outbox
from mimamori.kit.runtime.module import Platform


def bootstrap(
    *,
    platform: Platform,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    inbox: Table,
    tables: dict[str, Table],
) -> FastAPI:
    """Build identity's unit of work, consumers and app."""

    def uow_factory() -> IdentityUnitOfWork:
        return IdentityUnitOfWork(
            tables=tables,
            sessions=sessions,
            outbox=outbox,
            inbox=inbox,
            source="identity",
            municipality=platform.settings.municipality_code,
        )

    factory: Callable[[], IdentityUnitOfWork] = uow_factory
    consumers.subscribe(platform.bus, uow=factory, retries=platform.settings.consumer_retries)
    app = create_service_app(
        name="identity",
        title="Mimamori identity",
        description="個人・世帯の名寄せ (master person index: persons, households, 続柄, record links)",
        verifier=platform.context_verifier,
        uow_factory=factory,
    )
    app.include_router(persons.router)
    return app
