"""A module is one service (or the gateway) with a name, dependencies and a start/stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from fastapi import FastAPI

from mimamori.kit.auth import ContextSigner, ContextVerifier
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.bus import EventBus


@dataclass
class Platform:
    """What the modules of one process share: settings, the bus, the context keys, each other's apps."""

    settings: PlatformSettings
    bus: EventBus
    context_verifier: ContextVerifier
    context_signer: ContextSigner | None
    embedded: bool
    targets: tuple[str, ...]
    apps: dict[str, FastAPI] = field(default_factory=dict)
    # Set by the runtime once every module of this process has started: True when all are caught up.
    readiness: Callable[[], Awaitable[bool]] | None = None


@runtime_checkable
class Module(Protocol):
    """One deployable part. `start` runs migrations, wires the service (bootstrap) and subscribes to the bus."""

    name: str
    dependencies: tuple[str, ...]
    port: int

    async def start(self, platform: Platform) -> None:
        """Build and start the module (before the bus starts delivering)."""

    async def stop(self) -> None:
        """Stop background work and close connections."""

    @property
    def app(self) -> FastAPI | None:
        """The module's HTTP app (after start), or None."""

    async def backlog(self) -> int:
        """Work not yet done by this module (unsent outbox rows); 0 when caught up."""
