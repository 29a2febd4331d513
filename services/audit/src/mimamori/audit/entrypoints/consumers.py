"""audit's subscription: every service's and the gateway's access records."""

from __future__ import annotations

from collections.abc import Callable

from mimamori.audit.service_layer import handlers
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.inbox import subscription

GROUP = "audit.ledger"
TOPICS = ("audit.access.v1",)


def subscribe(bus: EventBus, *, uow: Callable[[], AuditUnitOfWork], retries: int) -> None:
    """Register audit's consumer: each access record is appended once, whatever the redeliveries."""
    bus.subscribe(
        subscription(group=GROUP, topics=TOPICS, uow=uow, handle_many=handlers.on_accesses_recorded, retries=retries)
    )
