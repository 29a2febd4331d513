"""The one place where casework is wired together."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from mimamori.casework.entrypoints import consumers
from mimamori.casework.entrypoints.api import case_transitions, cases, observations
from mimamori.casework.service_layer.unit_of_work import CaseworkUnitOfWork
from mimamori.kit.http import create_service_app
from mimamori.kit.runtime.service import Wiring


def bootstrap(*, wiring: Wiring) -> FastAPI:
    """Build casework's unit of work, consumers and app."""
    platform = wiring.platform
    factory: Callable[[], CaseworkUnitOfWork] = wiring.units(CaseworkUnitOfWork, tables=wiring.tables)
    consumers.subscribe(platform.bus, uow=factory, retries=platform.settings.consumer_retries)
    app = create_service_app(
        name="casework",
        title="Mimamori casework",
        description="見守り情報とケース (cases and observations)",
        verifier=platform.context_verifier,
        uow_factory=factory,
    )
    app.include_router(observations.router)
    app.include_router(cases.router)
    app.include_router(case_transitions.router)
    return app
