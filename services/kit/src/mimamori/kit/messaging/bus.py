"""The bus port: publish durably, subscribe with at-least-once delivery, retries and a dead-letter topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mimamori.kit.messaging.envelope import Envelope

Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]


class PoisonMessage(Exception):
    """A message that can never be handled (undecodable, invalid): sent to the dead-letter topic at once."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A consumer group's interest in some topics."""

    group: str
    topics: tuple[str, ...]
    handler: Handler
    retries: int = 3
    retry_delay: float = 0.05
    # Optional: handles many messages of one partition at once (one transaction); on any failure other than an
    # infrastructure fault the bus falls back to `handler`, one message at a time, to isolate the bad one.
    batch_handler: BatchHandler | None = None
    max_batch: int = 200
    # How long the broker may hold a fetch to gather more messages: for a consumer whose effect is not waited on
    # (the audit ledger), a batch per transaction instead of a transaction per few messages. 0 = answer as soon as
    # one message is there (lowest latency).
    gather_seconds: float = 0.0


class EventBus(Protocol):
    """What the outbox relay and consumers need of a broker."""

    async def start(self) -> None:
        """Connect and start the subscriptions registered so far."""

    async def stop(self) -> None:
        """Stop consuming and flush what was published."""

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Return only when every envelope is durably accepted by the broker (acks=all)."""

    def subscribe(self, subscription: Subscription) -> None:
        """Register a consumer group; it starts with the bus."""

    def lag(self) -> dict[str, int]:
        """Messages published but not yet handled, per consumer group."""
