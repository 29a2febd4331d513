"""Handing one event to a subscription: retries, then the dead-letter topic; infrastructure faults block."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

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
