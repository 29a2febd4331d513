"""The one place where identity is wired together."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from mimamori.identity.config import IdentitySettings
from mimamori.identity.entrypoints import consumers
from mimamori.identity.entrypoints.api import links, persons, review
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.http import create_service_app
from mimamori.kit.runtime.service import Wiring


def bootstrap(*, wiring: Wiring) -> FastAPI:
    """Build identity's unit of work, consumers and app."""
    platform = wiring.platform
    factory: Callable[[], IdentityUnitOfWork] = wiring.units(IdentityUnitOfWork, tables=wiring.tables)
    consumers.subscribe(platform.bus, uow=factory, retries=platform.settings.consumer_retries)
    app = create_service_app(
        name="identity",
        title="Mimamori identity",
        description="個人・世帯の名寄せ (master person index: persons, households, 続柄, record links)",
        verifier=platform.context_verifier,
        uow_factory=factory,
    )
    app.include_router(persons.router)
    app.include_router(review.router)
    app.include_router(links.router)
    app.state.pseudonym_key = IdentitySettings().key_for(platform.settings.environment).encode("utf-8")
    return app
