"""The inbox's claim on a batch of events, on both databases: only events not processed before are handed out,
each once, and a claim rolls back with the transaction that made it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mimamori.kit.messaging.inprocess import InProcessBus

if TYPE_CHECKING:
    from conftest import OpenService

pytestmark = pytest.mark.integration


async def test_a_claim_hands_out_each_unprocessed_event_once(tiny_service: OpenService, database_url: str) -> None:
    service = await tiny_service(database_url, InProcessBus(), relay=False)
    async with service.uow() as uow:
        assert await uow.claim_unprocessed("g", ["a", "b", "a"]) == {"a", "b"}
        await uow.commit()
    async with service.uow() as uow:
        assert await uow.claim_unprocessed("g", ["a", "c", "b", "d"]) == {"c", "d"}
        assert await uow.claim_unprocessed("other", ["a"]) == {"a"}  # per consumer group
        await uow.commit()
    async with service.uow() as uow:
        assert await uow.claim_unprocessed("g", []) == set()
        assert await uow.already_processed("g", "c")


async def test_a_claim_rolls_back_with_its_transaction(tiny_service: OpenService, database_url: str) -> None:
    service = await tiny_service(database_url, InProcessBus(), relay=False)
    async with service.uow() as uow:
        assert await uow.claim_unprocessed("g", ["a", "b"]) == {"a", "b"}
        await uow.rollback()  # the handler failed: the events are to be handled again
    async with service.uow() as uow:
        assert await uow.claim_unprocessed("g", ["b", "a"]) == {"a", "b"}
        await uow.commit()
