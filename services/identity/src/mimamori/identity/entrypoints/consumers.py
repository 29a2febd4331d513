"""identity's subscriptions: ingest's person records (住民記録)."""

from __future__ import annotations

from collections.abc import Callable

from mimamori.identity.service_layer import handlers
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.inbox import subscription

GROUP = "identity.ingest"
TOPICS = ("ingest.person-record.v1",)


def subscribe(bus: EventBus, *, uow: Callable[[], IdentityUnitOfWork], retries: int) -> None:
    """Register identity's consumers."""
    bus.subscribe(
        subscription(group=GROUP, topics=TOPICS, uow=uow, handle=handlers.link_source_record, retries=retries)
    )
