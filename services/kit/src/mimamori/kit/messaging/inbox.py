"""Idempotent consumers: the handler's effect and the inbox record of the event id commit together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import IntegrityError

from mimamori.contracts import decode
from mimamori.kit.messaging.bus import Handler, PoisonMessage
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.telemetry import span_from
from mimamori.kit.unit_of_work import UnitOfWork

U = TypeVar("U", bound=UnitOfWork)
EventHandler = Callable[[Message, Envelope, U], Awaitable[None]]


def idempotent(*, group: str, uow: Callable[[], U], handle: EventHandler[U]) -> Handler:
    """Wrap a handler so a redelivered event changes nothing; its span continues the event's trace."""

    async def consume(envelope: Envelope) -> None:
        try:
            message = decode(envelope.type, envelope.payload)
        except (KeyError, DecodeError) as exc:
            raise PoisonMessage(envelope.type) from exc
        carrier = {"traceparent": envelope.traceparent, "tracestate": envelope.tracestate}
        attributes = {
            "messaging.system": "mimamori",
            "messaging.destination.name": envelope.topic,
            "messaging.consumer.group.name": group,
            "messaging.message.id": envelope.id,
        }
        with span_from(carrier, f"{envelope.topic} process", kind=SpanKind.CONSUMER, attributes=attributes):
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
