"""One process running some modules: `all` (embedded: SQLite, in-process bus) or one (PostgreSQL, Kafka)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from opentelemetry.sdk.trace import SpanProcessor

from mimamori.kit.auth import ContextSigner, ContextVerifier, generate_signing_key, load_key
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.messaging.kafka import KafkaBus
from mimamori.kit.runtime.module import Module, Platform
from mimamori.kit.runtime.registry import available, discover, start_order
from mimamori.kit.telemetry import setup_logging, setup_tracing

log = logging.getLogger("mimamori.kit.runtime")

ALL = "all"


@dataclass
class Runtime:
    """The started modules of this process."""

    platform: Platform
    modules: list[Module]

    def module(self, name: str) -> Module:
        """A started module by name."""
        for module in self.modules:
            if module.name == name:
                return module
        raise KeyError(name)

    async def backlog(self) -> int:
        """Unsent outbox rows plus unhandled messages; 0 means caught up."""
        outboxes = sum([await m.backlog() for m in self.modules])
        lag = self.platform.bus.lag()
        pending = sum(v for v in lag.values() if v > 0)
        unassigned = sum(1 for v in lag.values() if v < 0)
        return outboxes + pending + unassigned

    async def caught_up(self) -> bool:
        """Whether every outbox is relayed and every consumer has caught up."""
        return await self.backlog() == 0

    # ASYNC109 would have callers wrap this in asyncio.timeout; the deadline is checked between polls instead, so
    # that a backlog query is never cancelled halfway, and the ingest CLI and the tests pass `timeout=` already.
    async def wait_idle(self, *, timeout: float = 60.0, settle: float = 0.05) -> None:  # noqa: ASYNC109
        """Wait until every outbox is relayed and every consumer has caught up (twice in a row)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the platform did not catch up in time")
            quiet = quiet + 1 if await self.backlog() == 0 else 0
            await asyncio.sleep(settle)


def make_bus(settings: PlatformSettings, client_id: str) -> EventBus:
    """Kafka when configured, else the in-process bus."""
    if settings.kafka_bootstrap:
        return KafkaBus(
            bootstrap=settings.kafka_bootstrap, client_id=client_id, namespace=settings.kafka_namespace
        )
    return InProcessBus()


@contextlib.asynccontextmanager
async def running(
    *,
    targets: list[str],
    settings: PlatformSettings | None = None,
    span_processors: list[SpanProcessor] | None = None,
    bus: EventBus | None = None,
) -> AsyncIterator[Runtime]:
    """Start the named modules (or every module for `all`), yield them, stop them in reverse order."""
    settings = settings or PlatformSettings()
    names = available() if targets == [ALL] else targets
    modules = discover(names)
    embedded = targets == [ALL] and not settings.database_url
    setup_tracing(
        service_name="mimamori" if len(names) > 1 else f"mimamori-{names[0]}",
        ratio=settings.trace_ratio if settings.trace_ratio is not None else (1.0 if embedded else 0.1),
        otlp_endpoint=settings.otlp_endpoint,
        extra_processors=span_processors,
    )
    if settings.context_private_key:
        private = load_key(settings.context_private_key)
        signer: ContextSigner | None = ContextSigner(private)
        verifier = ContextVerifier(private)
    elif settings.context_public_key:
        signer, verifier = None, ContextVerifier(load_key(settings.context_public_key))
    else:
        key = generate_signing_key()  # embedded: one process signs and verifies
        signer, verifier = ContextSigner(key), ContextVerifier(key)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    platform = Platform(
        settings=settings,
        bus=bus or make_bus(settings, client_id="-".join(names) if len(names) < 3 else "mimamori"),
        context_verifier=verifier,
        context_signer=signer,
        embedded=embedded,
        targets=tuple(names),
    )
    started: list[Module] = []
    try:
        for module in start_order(modules, names):
            await module.start(platform)
            started.append(module)
            log.info("module started", extra={"target": module.name})
        await platform.bus.start()
        runtime = Runtime(platform=platform, modules=started)
        platform.readiness = runtime.caught_up
        yield runtime
    finally:
        platform.readiness = None
        await platform.bus.stop()
        for module in reversed(started):
            await module.stop()


SEED_DEMO = "MIMAMORI_INGEST_SEED_DEMO"


@contextlib.contextmanager
def without_demo_town() -> Iterator[None]:
    """For a command that starts the platform on real data (loading, rematching): the embedded form must not seed
    the synthetic demo town into the same data directory."""
    before = os.environ.get(SEED_DEMO)
    os.environ[SEED_DEMO] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SEED_DEMO, None)
        else:
            os.environ[SEED_DEMO] = before


def freeze_start_up_objects() -> None:
    """Put what start-up built (modules, apps, engines, imported code: some 150,000 objects) out of the cyclic
    collector's reach. It lives as long as the process; left in the oldest generation, every full collection would
    walk it again, a 30–80 ms pause in the middle of some request or event. Only for a serving process: objects
    frozen are never collected, so a process that starts runtimes again and again (tests) must not call it."""
    gc.collect()
    gc.freeze()


def configure_logging(settings: PlatformSettings) -> None:
    """JSON logs for the process."""
    setup_logging(settings.log_level)
