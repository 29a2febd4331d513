"""The in-process bus of the embedded form: one ordered log per topic, one cursor per consumer group."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence

from mimamori.kit.messaging.bus import Subscription
from mimamori.kit.messaging.delivery import deliver_batch
from mimamori.kit.messaging.envelope import Envelope


class InProcessBus:
    """Kafka's semantics in one process: ordered per topic, at-least-once, groups start at the earliest."""

    def __init__(self) -> None:
        self._log: dict[str, list[Envelope]] = defaultdict(list)
        self._subscriptions: list[Subscription] = []
        self._cursors: dict[tuple[str, str], int] = defaultdict(int)
        self._wakes: list[asyncio.Event] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._running = False

    def subscribe(self, subscription: Subscription) -> None:
        """Register a consumer group; it starts with the bus (or at once when the bus runs)."""
        self._subscriptions.append(subscription)
        if self._running:
            self._start(subscription)

    async def start(self) -> None:
        """Start every registered consumer group."""
        if self._running:
            return
        self._stopping = False
        self._running = True
        for subscription in self._subscriptions:
            self._start(subscription)

    def _start(self, subscription: Subscription) -> None:
        # One wake-up per consumer task, so two subscriptions of one group never steal each other's.
        wake = asyncio.Event()
        self._wakes.append(wake)
        task = asyncio.create_task(self._run(subscription, wake), name=f"bus:{subscription.group}")
        self._tasks.append(task)

    async def stop(self) -> None:
        """Stop the consumer tasks; the log stays for a restart within this process."""
        self._stopping = True
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._wakes.clear()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Append to the topics' logs and wake their consumers."""
        for envelope in envelopes:
            self._log[envelope.topic].append(envelope)
        for wake in self._wakes:
            wake.set()

    def lag(self) -> dict[str, int]:
        """Messages not yet handled, per group."""
        lag: dict[str, int] = defaultdict(int)
        for subscription in self._subscriptions:
            for topic in subscription.topics:
                lag[subscription.group] += len(self._log[topic]) - self._cursors[(subscription.group, topic)]
        return dict(lag)

    def messages(self, topic: str) -> list[Envelope]:
        """What was published on a topic (for tests and the dead-letter view)."""
        return list(self._log[topic])

    async def _run(self, subscription: Subscription, wake: asyncio.Event) -> None:
        while not self._stopping:
            wake.clear()
            progressed = False
            for topic in subscription.topics:
                cursor = (subscription.group, topic)
                while self._cursors[cursor] < len(self._log[topic]):
                    start = self._cursors[cursor]
                    batch = self._log[topic][start : start + subscription.max_batch]

                    def advance(handled: int, cursor: tuple[str, str] = cursor, start: int = start) -> None:
                        self._cursors[cursor] = start + handled

                    handled = await deliver_batch(
                        subscription,
                        batch,
                        dead_letter=self._dead_letter,
                        stopping=lambda: self._stopping,
                        progress=advance,
                    )
                    if handled < len(batch):
                        return
                    progressed = True
            if not progressed:
                await wake.wait()

    async def _dead_letter(self, envelope: Envelope) -> None:
        await self.publish([envelope])
