"""casework's subscriptions: identity's persons (linked, merged, unmerged) and households."""

from __future__ import annotations

from collections.abc import Callable

from mimamori.casework.service_layer import handlers
from mimamori.casework.service_layer.unit_of_work import CaseworkUnitOfWork
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.inbox import subscription

GROUP = "casework.identity"


def subscribe(bus: EventBus, *, uow: Callable[[], CaseworkUnitOfWork], retries: int) -> None:
    """Register casework's consumers."""
    routes = {
        "mimamori.events.identity.v1.PersonLinked": handlers.on_person_linked,
        "mimamori.events.identity.v1.HouseholdChanged": handlers.on_household_changed,
        "mimamori.events.identity.v1.PersonsMerged": handlers.on_persons_merged,
        "mimamori.events.identity.v1.PersonUnmerged": handlers.on_person_unmerged,
    }

    async def dispatch(message, envelope, unit):  # type: ignore[no-untyped-def]
        handler = routes.get(envelope.type)
        if handler is not None:
            await handler(message, envelope, unit)

    bus.subscribe(
        subscription(
            group=GROUP,
            topics=("identity.person.v1", "identity.household.v1"),
            uow=uow,
            handle=dispatch,
            retries=retries,
        )
    )
