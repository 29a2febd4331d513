"""risk's subscriptions: identity's households."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message

from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inbox import subscription
from mimamori.risk.adapters.events import announced_at, household_from_event
from mimamori.risk.service_layer import handlers
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

GROUP = "risk.identity"
TOPICS = ("identity.household.v1",)


async def on_household_changed(message: Message, envelope: Envelope, uow: RiskUnitOfWork) -> None:
    """identity announced a household's full membership."""
    if not isinstance(message, person_pb2.HouseholdChanged):
        return
    await handlers.apply_household_change(
        household_from_event(message), announced_at=announced_at(envelope.time), uow=uow
    )


def subscribe(bus: EventBus, *, uow: Callable[[], RiskUnitOfWork], retries: int) -> None:
    """Register risk's consumers."""
    bus.subscribe(subscription(group=GROUP, topics=TOPICS, uow=uow, handle=on_household_changed, retries=retries))
