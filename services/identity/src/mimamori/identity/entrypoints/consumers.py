"""identity's subscriptions: ingest's person records (住民記録)."""

from __future__ import annotations

from collections.abc import Callable

from mimamori.identity.service_layer import handlers
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.messaging.bus import EventBus, Subscription
from mimamori.kit.messaging.inbox import idempotent

GROUP = "identity.ingest"
TOPICS = ("ingest.person-record.v1",)


def subscribe(bus: EventBus, *, uow: Callable[[], IdentityUnitOfWork], retries: int) -> None:
    """Register identity's consumers."""
    bus.subscribe(
        Subscription(
            group=GROUP,
            topics=TOPICS,
            handler=idempotent(group=GROUP, uow=uow, handle=handlers.link_source_record),
            retries=retries,
        )
    )
