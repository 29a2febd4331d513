"""Idempotent consumers: the handler's effect and the inbox record of the event id commit together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from opentelemetry.trace import Span, SpanKind
from sqlalchemy.exc import IntegrityError

from mimamori.contracts import decode
from mimamori.kit.messaging.bus import BatchHandler, Handler, PoisonMessage, Subscription
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.telemetry import span_from
from mimamori.kit.unit_of_work import UnitOfWork

U = TypeVar("U", bound=UnitOfWork)
EventHandler = Callable[[Message, Envelope, U], Awaitable[None]]
ManyHandler = Callable[[Sequence[tuple[Message, Envelope]], U], Awaitable[None]]


def idempotent(*, group: str, uow: Callable[[], U], handle: EventHandler[U]) -> Handler:
    """Wrap a handler so a redelivered event changes nothing; its span continues the event's trace."""

    async def consume(envelope: Envelope) -> None:
        message = _decode(envelope)
        with _span(envelope, group):
            async with uow() as unit:
                if await unit.already_processed(group, envelope.id):
                    return
                try:
                    await handle(message, envelope, unit)
                    await unit.mark_processed(group, envelope.id)
                    await unit.commit()
                except IntegrityError:
                    # A concurrent delivery of the same event committed first: its effect stands. The conflict
                    # surfaces at the inbox insert (or at the effect's own unique key), not only at commit.
                    await unit.rollback()
                    async with uow() as check:
                        if not await check.already_processed(group, envelope.id):
                            raise

    return consume


def idempotent_batch(
    *,
    group: str,
    uow: Callable[[], U],
    handle: EventHandler[U] | None = None,
    handle_many: ManyHandler[U] | None = None,
) -> BatchHandler:
    """Like `idempotent`, for consecutive events of one partition in one transaction (one span per event).

    With `handle_many`, the events not yet processed go to one call, so a projection can write them together
    (one statement for the batch instead of one round trip per event)."""
    if (handle is None) == (handle_many is None):
        raise ValueError("give exactly one of handle and handle_many")

    async def consume(envelopes: Sequence[Envelope]) -> None:
        decoded = [(envelope, _decode(envelope)) for envelope in envelopes]
        async with uow() as unit:
            claimed = await unit.claim_unprocessed(group, [e.id for e in envelopes])
            fresh: list[tuple[Message, Envelope]] = []
            for envelope, message in decoded:
                if envelope.id in claimed:
                    claimed.discard(envelope.id)  # a batch holding one event twice handles it once
                    fresh.append((message, envelope))
            if handle_many is not None:
                with ExitStack() as spans:
                    for _, envelope in fresh:
                        spans.enter_context(_span(envelope, group))
                    await handle_many(fresh, unit)
            elif handle is not None:
                for message, envelope in fresh:
                    with _span(envelope, group):
                        await handle(message, envelope, unit)
            await unit.commit()

    return consume


def subscription(
    *,
    group: str,
    topics: Sequence[str],
    uow: Callable[[], U],
    handle: EventHandler[U] | None = None,
    handle_many: ManyHandler[U] | None = None,
    retries: int = 3,
    gather_seconds: float = 0.0,
) -> Subscription:
    """An idempotent subscription that handles a partition's pending events in batches, one by one on failure."""
    if handle is None and handle_many is not None:
        many = handle_many

        async def one(message: Message, envelope: Envelope, unit: U) -> None:
            await many([(message, envelope)], unit)

        single: EventHandler[U] = one
    elif handle is not None:
        single = handle
    else:
        raise ValueError("give handle or handle_many")
    return Subscription(
        group=group,
        topics=tuple(topics),
        handler=idempotent(group=group, uow=uow, handle=single),
        batch_handler=idempotent_batch(group=group, uow=uow, handle=handle, handle_many=handle_many),
        retries=retries,
        gather_seconds=gather_seconds,
    )


def _decode(envelope: Envelope) -> Message:
    try:
        return decode(envelope.type, envelope.payload)
    except (KeyError, DecodeError) as exc:
        raise PoisonMessage(envelope.type) from exc


def _span(envelope: Envelope, group: str) -> AbstractContextManager[Span]:
    carrier = {"traceparent": envelope.traceparent, "tracestate": envelope.tracestate}
    attributes = {
        "messaging.system": "mimamori",
        "messaging.destination.name": envelope.topic,
        "messaging.consumer.group.name": group,
        "messaging.message.id": envelope.id,
    }
    return span_from(carrier, f"{envelope.topic} process", kind=SpanKind.CONSUMER, attributes=attributes)
