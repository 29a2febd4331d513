"""The one place where audit is wired together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from mimamori.audit.adapters.signing import CheckpointKey
from mimamori.audit.config import AuditSettings
from mimamori.audit.entrypoints import consumers
from mimamori.audit.entrypoints.api import actors, checkpoints, entries, persons, reviews, verification
from mimamori.audit.entrypoints.scheduler import CheckpointSchedule
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.kit.http import create_service_app
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import Wiring


@dataclass
class AuditService:
    """What bootstrap built: the app and the checkpoint schedule (the module starts and stops it)."""

    app: FastAPI
    schedule: CheckpointSchedule
    key: CheckpointKey


def checkpoint_key(settings: AuditSettings, platform: Platform) -> CheckpointKey:
    """The configured key; in development without one, the key kept in the data dir (made on first start)."""
    if settings.checkpoint_key:
        key = CheckpointKey.from_pem(settings.checkpoint_key)
    elif platform.settings.environment == "production":
        raise ValueError("production needs MIMAMORI_AUDIT_CHECKPOINT_KEY (PEM of an Ed25519 private key)")
    else:
        key = CheckpointKey.in_data_dir(platform.settings.data_dir)
    if not key.can_sign:
        raise ValueError("MIMAMORI_AUDIT_CHECKPOINT_KEY must be a private key: the service signs checkpoints")
    return key


def bootstrap(*, wiring: Wiring, settings: AuditSettings) -> AuditService:
    """Build audit's unit of work, consumer, checkpoint schedule and app."""
    platform = wiring.platform
    factory: Callable[[], AuditUnitOfWork] = wiring.units(AuditUnitOfWork, tables=wiring.tables)
    key = checkpoint_key(settings, platform)
    consumers.subscribe(platform.bus, uow=factory, retries=platform.settings.consumer_retries)
    schedule = CheckpointSchedule(
        uow=factory,
        key=key,
        municipality=platform.settings.municipality_code,
        interval=settings.checkpoint_interval_seconds,
    )
    app = create_service_app(
        name="audit",
        title="Mimamori audit",
        description="監査ログ (hash-chained, insert-only audit ledger with signed checkpoints)",
        verifier=platform.context_verifier,
        uow_factory=factory,
        checkpoint_key=key,
        audit_settings=settings,
        municipality=platform.settings.municipality_code,
    )
    for router in (
        entries.router,
        persons.router,
        actors.router,
        reviews.router,
        checkpoints.router,
        verification.router,
    ):
        app.include_router(router)
    return AuditService(app=app, schedule=schedule, key=key)
