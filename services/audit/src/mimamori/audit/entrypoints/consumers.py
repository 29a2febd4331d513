"""audit's subscription: every service's and the gateway's access records."""

from __future__ import annotations

from collections.abc import Callable

from mimamori.audit.service_layer import handlers
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.inbox import subscription

GROUP = "audit.ledger"
TOPICS = ("audit.access.v1",)
GATHER_SECONDS = 0.1


def subscribe(bus: EventBus, *, uow: Callable[[], AuditUnitOfWork], retries: int) -> None:
    """Register audit's consumer: each access record is appended once, whatever the redeliveries."""
    bus.subscribe(
        subscription(
            group=GROUP,
            topics=TOPICS,
            uow=uow,
            handle_many=handlers.on_accesses_recorded,
            retries=retries,
            # The record is already durable in the recorder's outbox; the ledger may take it within a tenth of a
            # second, so one append (one transaction, one lock of the chain head) serves many records.
            gather_seconds=GATHER_SECONDS,
        )
    )
