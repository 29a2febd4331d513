"""Recording decisions: each one an AccessRecorded event, published through the gateway's outbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

from opentelemetry import context as otel_context

from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.audit_trail import record_access
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.unit_of_work import UnitOfWork, envelope_of

MAX_BATCH = 256
CLOSE_TIMEOUT = 10.0


class Recorder(Protocol):
    """Where decisions go."""

    async def record(self, event: access_pb2.AccessRecorded) -> None:
        """Return once the event is durably on its way to the audit ledger."""

    async def close(self) -> None:
        """Finish what is waiting."""


Pending = tuple[access_pb2.AccessRecorded, otel_context.Context, "asyncio.Future[None]"]


class BrokerPublish:
    """Decisions straight to a bus that acknowledges only what it holds durably (Kafka, acks=all): the decision is
    the gateway's only change, so an outbox row would add a database write, a relay read and a mark per group
    and no guarantee. Each event is on record once the broker acknowledged it."""

    def __init__(self, *, bus: EventBus, source: str, municipality: str) -> None:
        self._bus = bus
        self._source = source
        self._municipality = municipality

    async def publish(self, batch: list[Pending]) -> None:
        """Publish the batch and wait for the broker's acknowledgement of every event."""
        envelopes = []
        for event, trace_context, _ in batch:
            token = otel_context.attach(trace_context)
            try:
                envelopes.append(
                    envelope_of(
                        event,
                        key=event.actor or "anonymous",
                        source=self._source,
                        municipality=self._municipality,
                        actor=event.actor,
                        purpose=event.purpose,
                    )
                )
            finally:
                otel_context.detach(token)
        await self._bus.publish(envelopes)


class DecisionRecorder:
    """One writer commits the decisions waiting at that moment in one transaction (group commit): concurrent
    requests share a commit instead of queueing for the database one by one. `record` returns only once its
    event is committed, so no request passes the gateway unrecorded."""

    def __init__(
        self,
        *,
        uow: Callable[[], UnitOfWork] | None = None,
        bus: BrokerPublish | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if (uow is None) == (bus is None):
            raise ValueError("decisions go through the outbox (uow) or straight to a durable bus, not both")
        self._uow = uow
        self._bus = bus
        self._max_batch = max_batch
        self._waiting: list[Pending] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False

    async def record(self, event: access_pb2.AccessRecorded) -> None:
        """Publish the event through the outbox; raises when it could not be committed."""
        if self._closing:
            raise RuntimeError("the decision recorder is closed")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # The request's trace context goes with the event: the outbox row carries the request's traceparent.
        self._waiting.append((event, otel_context.get_current(), future))
        self._wake.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="gateway:decisions")
        await future

    async def close(self) -> None:
        """Commit what is waiting, then stop the writer."""
        self._closing = True
        self._wake.set()
        if self._writer is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), CLOSE_TIMEOUT)
        except TimeoutError:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        self._writer = None

    async def _write(self) -> None:
        batch: list[Pending] = []
        try:
            while self._waiting or not self._closing:
                if not self._waiting:
                    await self._wake.wait()
                    self._wake.clear()
                    continue
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    await self._commit(batch)
                except Exception as exc:
                    _settle(batch, exc)
                else:
                    _settle(batch, None)
                batch = []
        finally:
            stopped = RuntimeError("the decision recorder stopped")
            _settle(batch, stopped)
            _settle(self._waiting, stopped)
            self._waiting = []

    async def _commit(self, batch: list[Pending]) -> None:
        if self._bus is not None:
            await self._bus.publish(batch)
            return
        assert self._uow is not None
        async with self._uow() as uow:
            for event, trace_context, _ in batch:
                token = otel_context.attach(trace_context)
                try:
                    record_access(uow, event)
                finally:
                    otel_context.detach(token)
            await uow.commit()


def _settle(batch: list[Pending], error: BaseException | None) -> None:
    for _, _, future in batch:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
