"""Replicas of a service on one PostgreSQL outbox: one relays at a time (an advisory lock), the others tell it of
their commits (NOTIFY), and another takes over when it stops or its connection dies. Without the lease every
replica published every row it found unsent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.testing import servers

if TYPE_CHECKING:
    from conftest import Eventually, OpenService, TinyService

pytestmark = pytest.mark.integration

# Far longer than any wait below: a row that leaves promptly was relayed on a wake-up, not found by a poll.
NO_POLL = 60.0


class RecordingBus(InProcessBus):
    """An in-process bus that remembers what it published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        self.published.extend(e.id for e in envelopes)
        await super().publish(envelopes)


async def _all_sent(service: TinyService) -> bool:
    return not await service.unsent_ids()


async def two_replicas(
    tiny_service: OpenService, url: str, eventually: Eventually, *, poll_seconds: float
) -> tuple[list[TinyService], list[RecordingBus], int]:
    """Two replicas of the tiny service on one database, once one of them relays: (replicas, buses, which)."""
    buses = [RecordingBus(), RecordingBus()]
    replicas = [await tiny_service(url, bus, poll_seconds=poll_seconds) for bus in buses]
    await eventually(lambda: any(r.outbox.relaying for r in replicas), what="one replica to take the lease")
    return replicas, buses, 0 if replicas[0].outbox.relaying else 1


async def test_one_replica_relays_the_rows_of_all_and_each_once(
    tiny_service: OpenService, postgres_url: str, eventually: Eventually
) -> None:
    replicas, buses, _ = await two_replicas(tiny_service, postgres_url, eventually, poll_seconds=NO_POLL)

    recorded = []
    for i in range(30):  # committed on both replicas, interleaved
        recorded.append(await replicas[i % 2].record(f"obs-{i}"))
    await eventually(lambda: _all_sent(replicas[0]), within=10, what="every row relayed without a poll")

    published = Counter(buses[0].published + buses[1].published)
    assert set(published) == {e.id for e in recorded}
    assert max(published.values()) == 1  # none twice
    assert sorted(r.outbox.relaying for r in replicas) == [False, True]
    relaying = buses[0] if replicas[0].outbox.relaying else buses[1]
    assert len(relaying.published) == 30


async def test_another_replica_takes_over_when_the_relaying_one_stops(
    tiny_service: OpenService, postgres_url: str, eventually: Eventually
) -> None:
    replicas, buses, leader = await two_replicas(tiny_service, postgres_url, eventually, poll_seconds=0.2)
    other = 1 - leader

    await replicas[leader].outbox.stop()
    after = await replicas[other].record("after-stop")
    await eventually(lambda: after.id in buses[other].published, within=10, what="the other replica to relay")
    assert replicas[other].outbox.relaying
    assert after.id not in buses[leader].published


async def test_another_replica_takes_over_when_the_relaying_ones_connection_dies(
    tiny_service: OpenService, postgres_url: str, eventually: Eventually
) -> None:
    replicas, buses, leader = await two_replicas(tiny_service, postgres_url, eventually, poll_seconds=0.2)
    other = 1 - leader

    # The relaying replica's lock connection is cut (its process died, the network failed): the server frees
    # the lock, the replica sees its connection gone and stops relaying, and one of the two takes the lease again.
    async with replicas[other].engine.connect() as connection:
        cut = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    assert cut == 1
    await eventually(lambda: not replicas[leader].outbox.relaying, within=10, what="the cut to be noticed")

    events = [await replicas[i % 2].record(f"after-cut-{i}") for i in range(6)]
    await eventually(lambda: _all_sent(replicas[0]), within=10, what="the rows committed after the cut")
    published = Counter(buses[0].published + buses[1].published)
    assert all(published[e.id] == 1 for e in events)
    assert sum(r.outbox.relaying for r in replicas) == 1


async def test_the_same_service_in_another_database_relays_its_own_outbox(
    tiny_service: OpenService, postgres_url: str, postgres_server: str, eventually: Eventually
) -> None:
    # Another town's database on the same server: same schema, same table, hence the same lock key. Advisory locks
    # are per database, and so is the lease.
    here = RecordingBus()
    relaying_here = await tiny_service(postgres_url, here, poll_seconds=0.2)
    await eventually(lambda: relaying_here.outbox.relaying, what="the first database's relay")
    with servers.fresh_database(postgres_server) as elsewhere_url:
        there = RecordingBus()
        relaying_there = await tiny_service(elsewhere_url, there, poll_seconds=0.2)
        event = await relaying_there.record("in-the-other-database")
        await eventually(lambda: event.id in there.published, within=10, what="the other database's own relay")
        assert relaying_here.outbox.relaying and relaying_there.outbox.relaying
        await relaying_there.outbox.stop()
        await relaying_there.engine.dispose()
