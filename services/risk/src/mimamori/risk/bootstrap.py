"""The one place where risk is wired together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from mimamori.kit.http import create_service_app
from mimamori.kit.runtime.service import Wiring
from mimamori.risk.adapters.rulesets import builtin_rule_texts
from mimamori.risk.config import RiskSettings
from mimamori.risk.entrypoints import consumers
from mimamori.risk.entrypoints.api import children, households, runs_routes, scoring_routes
from mimamori.risk.service_layer import scoring
from mimamori.risk.service_layer.rescore_runs import RescoreWorker, RunSettings
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork


async def seed(factory: Callable[[], RiskUnitOfWork]) -> None:
    """Store the shipped rule versions not yet stored."""
    await scoring.seed_rules(builtin_rule_texts(), uow=factory())


def run_settings(settings: RiskSettings) -> RunSettings:
    """How this process's worker runs full re-scores."""
    return RunSettings(
        chunk_households=settings.rescore_chunk_households,
        settle=timedelta(seconds=settings.rescore_settle_seconds),
        lease=timedelta(seconds=settings.rescore_lease_seconds),
        poll_seconds=settings.rescore_poll_seconds,
    )


def bootstrap(*, wiring: Wiring, settings: RiskSettings | None = None) -> FastAPI:
    """Build risk's unit of work, consumers, re-score worker and app (the worker is started by the module)."""
    settings = settings or RiskSettings()
    platform = wiring.platform
    factory: Callable[[], RiskUnitOfWork] = wiring.units(RiskUnitOfWork, tables=wiring.tables)
    consumers.subscribe(platform.bus, uow=factory, retries=platform.settings.consumer_retries, town=settings.town_name)
    app = create_service_app(
        name="risk",
        title="Mimamori risk",
        description="こどもの世帯・親・弟妹 (the per-child read model)",
        verifier=platform.context_verifier,
        uow_factory=factory,
    )
    app.state.pseudonym_key = settings.key_for(platform.settings.environment)
    app.state.rescore_worker = RescoreWorker(factory=factory, settings=run_settings(settings))
    app.include_router(children.router)
    app.include_router(households.router)
    app.include_router(scoring_routes.router)
    app.include_router(runs_routes.router)
    return app
