"""Statements the kit runs on asyncpg's own connection (audited reads, the relay): a connection that broke under
them is discarded, not handed to the next unit of work again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import pytest
from sqlalchemy import func, select, text

from mimamori.events.casework.v1 import observation_pb2
from mimamori.kit.db import Prebuilt, create_engine
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from conftest import OpenService, TinyService

pytestmark = pytest.mark.integration

BACKEND = Prebuilt(select(func.pg_backend_pid().label("pid")))
BROKEN = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)


def _reading(service: TinyService) -> UnitOfWork:
    unit = service.uow()
    unit.autocommit = True
    return unit


async def _backend(service: TinyService) -> int:
    async with _reading(service) as unit:
        [row] = await unit.rows(BACKEND, {})
        return int(row["pid"])


async def _terminate(url: str, pid: int) -> None:
    engine = create_engine(url, schema=None, pool_size=1)  # not the service's pool
    try:
        async with engine.connect() as other:
            assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await engine.dispose()


async def test_a_connection_broken_under_an_audited_read_is_not_pooled_again(
    tiny_service: OpenService, postgres_url: str
) -> None:
    service = await tiny_service(postgres_url, InProcessBus(), relay=False)
    first = await _backend(service)
    assert await _backend(service) == first  # one connection in the pool: each unit gets it back
    await _terminate(postgres_url, first)
    with pytest.raises(BROKEN):
        async with _reading(service) as unit:
            await unit.rows(BACKEND, {})
    assert await _backend(service) != first


async def test_the_relay_gets_a_fresh_connection_after_its_own_broke(
    tiny_service: OpenService, postgres_url: str, observation_topic: str
) -> None:
    bus = InProcessBus()
    service = await tiny_service(postgres_url, bus, relay=False)
    first = await _backend(service)
    event = await service.record("obs-1")
    await _terminate(postgres_url, first)
    with pytest.raises(BROKEN):
        await service.outbox.relay_once()
    assert await service.outbox.relay_once() == 1
    [published] = bus.messages(observation_topic)
    assert published.id == event.id
    assert observation_pb2.ObservationRecorded.FromString(published.payload).observation_id == "obs-1"
