"""Handing one event to a subscription: retries, then the dead-letter topic; infrastructure faults block."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import InterfaceError, OperationalError

from mimamori.kit.messaging.bus import PoisonMessage, Subscription
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.kit.messaging")

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError, OSError)
MAX_TRANSIENT_DELAY = 5.0


async def deliver(
    subscription: Subscription,
    envelope: Envelope,
    *,
    dead_letter: Callable[[Envelope], Awaitable[None]],
    stopping: Callable[[], bool] = lambda: False,
) -> bool:
    """Handle one event; return False only when stopped before it was handled.

    A poison message goes to `<topic>.dlq` at once; any other failure is retried `retries` times and then
    dead-lettered, so one bad message never stops the partition. Faults of the infrastructure (database or
    network down) are retried until they heal: dead-lettering every message during an outage would lose work.
    """
    attempt = 0
    transient_delay = subscription.retry_delay
    while True:
        try:
            await subscription.handler(envelope)
            return True
        except PoisonMessage as exc:
            reason = f"poison:{type(exc.__cause__ or exc).__name__}"
        except TRANSIENT as exc:
            if stopping():
                return False
            log.warning(
                "transient failure, will retry",
                extra={"group": subscription.group, "topic": envelope.topic, "error": type(exc).__name__},
            )
            await asyncio.sleep(transient_delay)
            transient_delay = min(transient_delay * 2, MAX_TRANSIENT_DELAY)
            continue
        except Exception as exc:
            attempt += 1
            if attempt <= subscription.retries:
                await asyncio.sleep(subscription.retry_delay * 2 ** (attempt - 1))
                continue
            reason = f"failed:{type(exc).__name__}"
        # Only the exception's type: its message may hold personal data.
        log.error(
            "message dead-lettered",
            extra={"group": subscription.group, "topic": envelope.topic, "event_id": envelope.id, "reason": reason},
        )
        await dead_letter(envelope.dead_lettered(reason))
        return True


async def deliver_batch(
    subscription: Subscription,
    envelopes: Sequence[Envelope],
    *,
    dead_letter: Callable[[Envelope], Awaitable[None]],
    stopping: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] = lambda handled: None,
) -> int:
    """Handle consecutive events of one partition; return how many, in order, were handled (all unless stopped).

    The batch handler commits them together; when it fails for any reason but an infrastructure fault, the
    events go one by one through `deliver`, so a bad one is retried and dead-lettered alone.
    """
    batch = subscription.batch_handler
    if batch is not None and len(envelopes) > 1:
        transient_delay = subscription.retry_delay
        while True:
            try:
                await batch(envelopes)
                progress(len(envelopes))
                return len(envelopes)
            except TRANSIENT as exc:
                if stopping():
                    return 0
                log.warning(
                    "transient failure, will retry",
                    extra={"group": subscription.group, "topic": envelopes[0].topic, "error": type(exc).__name__},
                )
                await asyncio.sleep(transient_delay)
                transient_delay = min(transient_delay * 2, MAX_TRANSIENT_DELAY)
            except Exception as exc:
                log.warning(
                    "batch failed, delivering one by one",
                    extra={"group": subscription.group, "size": len(envelopes), "error": type(exc).__name__},
                )
                break
    for handled, envelope in enumerate(envelopes):
        if not await deliver(subscription, envelope, dead_letter=dead_letter, stopping=stopping):
            return handled
        progress(handled + 1)  # kept even if the caller is cancelled later in the batch
    return len(envelopes)
