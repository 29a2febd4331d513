"""The relay publishes the next batch while the previous one waits for its acknowledgement, without a cursor:
rows under way are never fetched twice, and a row committed late (a lower seq than rows already relayed) is
still relayed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from mimamori.events.casework.v1 import observation_pb2
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus

if TYPE_CHECKING:
    from conftest import Eventually, OpenService, TinyService

pytestmark = pytest.mark.integration


class FirstHeldBus(InProcessBus):
    """An in-process bus that holds its first publish at a gate (a slow acknowledgement), the others not."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.held = asyncio.Event()
        self.calls: list[list[str]] = []

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        self.calls.append([e.id for e in envelopes])
        if len(self.calls) == 1:
            self.held.set()
            await self.gate.wait()
        await super().publish(envelopes)


async def test_the_relay_publishes_the_next_batch_while_the_previous_waits_for_its_ack(
    tiny_service: OpenService, database_url: str, observation_topic: str, eventually: Eventually
) -> None:
    bus = FirstHeldBus()
    service = await tiny_service(database_url, bus, poll_seconds=0.1)
    first = await service.record("first")
    await asyncio.wait_for(bus.held.wait(), 5)

    # While the first batch waits for its acknowledgement: a unit of work opened now and committed last has the
    # lower seq of the two that follow; both go out, the held row is not fetched again.
    late_opened = service.uow()
    async with late_opened as late:
        late_event = late.publish(observation_pb2.ObservationRecorded(observation_id="late"), key="person-1")
        second = await service.record("second")
        await eventually(lambda: [second.id] in bus.calls, what="the second batch, the first still unacknowledged")
        await late.commit()
    await eventually(lambda: [late_event.id] in bus.calls, what="the row committed late")
    # The two that followed are marked sent once acknowledged (a statement after their publish returned) ...
    await eventually(lambda: _only_unsent(service, first.id), what="the rows after the held one marked sent")
    assert await service.unsent_ids() == {first.id}  # ... the held one only after its own acknowledgement

    bus.gate.set()
    await eventually(lambda: _all_sent(service), what="every row marked sent")
    published = [e.id for e in bus.messages(observation_topic)]
    assert sorted(published) == sorted([first.id, second.id, late_event.id])  # each exactly once
    assert bus.calls == [[first.id], [second.id], [late_event.id]]


async def _only_unsent(service: TinyService, event_id: str) -> bool:
    return await service.unsent_ids() == {event_id}


async def _all_sent(service: TinyService) -> bool:
    return not await service.unsent_ids()
