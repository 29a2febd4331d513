"""identity's subscriptions: ingest's person records (住民記録), the other sources' records and the row index of
delivered files (DeliveryRowsIndexed, for the link export).

One subscription for all of them, so that a person's arrival and the references that wait for it are handled
one after the other, never in two transactions that cannot see each other.
"""

from __future__ import annotations

from collections.abc import Callable

from mimamori.identity.service_layer import handlers
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.inbox import subscription

GROUP = "identity.ingest"
TOPICS = ("ingest.person-record.v1", "ingest.source-record.v1", "ingest.delivery-rows.v1")


def subscribe(bus: EventBus, *, uow: Callable[[], IdentityUnitOfWork], retries: int) -> None:
    """Register identity's consumers."""
    bus.subscribe(subscription(group=GROUP, topics=TOPICS, uow=uow, handle=handlers.dispatch, retries=retries))
