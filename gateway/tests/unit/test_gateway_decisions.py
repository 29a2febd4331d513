"""The decision recorder: group commit, no decision lost, errors reach the requests that wait on them."""

from __future__ import annotations

import asyncio
from typing import Any, Self

import pytest

from mimamori.contracts import decode
from mimamori.events.audit.v1 import access_pb2
from mimamori.gateway.service_layer.decisions import BrokerPublish, DecisionRecorder


class FakeUnitOfWork:
    """Counts transactions; fails while `failing` is set."""

    failing = False

    def __init__(self, ledger: list[list[str]]) -> None:
        self._ledger = ledger
        self._published: list[str] = []

    async def __aenter__(self) -> Self:
        self._published = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def publish(self, message: Any, *, key: str, actor: str = "", purpose: str = "") -> None:
        self._published.append(message.decision_id)

    async def commit(self) -> None:
        await asyncio.sleep(0.01)  # a database round trip, during which more decisions arrive
        if FakeUnitOfWork.failing:
            raise ConnectionError("database down")
        self._ledger.append(self._published)


def decision(n: int) -> access_pb2.AccessRecorded:
    return access_pb2.AccessRecorded(decision_id=f"d-{n}", actor="a")


@pytest.fixture
def ledger() -> list[list[str]]:
    FakeUnitOfWork.failing = False
    return []


async def test_concurrent_decisions_share_commits_and_each_is_committed_once(ledger: list[list[str]]) -> None:
    recorder = DecisionRecorder(uow=lambda: FakeUnitOfWork(ledger))  # type: ignore[arg-type,return-value]
    await asyncio.gather(*(recorder.record(decision(n)) for n in range(50)))
    committed = [d for batch in ledger for d in batch]
    assert sorted(committed) == sorted(f"d-{n}" for n in range(50))
    assert len(ledger) < 50  # grouped
    await recorder.close()


async def test_a_failed_commit_fails_every_decision_in_it_and_later_ones_still_commit(
    ledger: list[list[str]],
) -> None:
    recorder = DecisionRecorder(uow=lambda: FakeUnitOfWork(ledger))  # type: ignore[arg-type,return-value]
    FakeUnitOfWork.failing = True
    results = await asyncio.gather(*(recorder.record(decision(n)) for n in range(5)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    FakeUnitOfWork.failing = False
    await recorder.record(decision(99))
    assert ledger == [["d-99"]]
    await recorder.close()


async def test_close_commits_what_is_waiting_and_refuses_more(ledger: list[list[str]]) -> None:
    recorder = DecisionRecorder(uow=lambda: FakeUnitOfWork(ledger))  # type: ignore[arg-type,return-value]
    pending = [asyncio.ensure_future(recorder.record(decision(n))) for n in range(3)]
    await asyncio.sleep(0)
    await recorder.close()
    await asyncio.gather(*pending)
    assert sorted(d for batch in ledger for d in batch) == ["d-0", "d-1", "d-2"]
    with pytest.raises(RuntimeError, match="closed"):
        await recorder.record(decision(4))


class FakeBroker:
    """Acknowledges what it holds; fails while `failing` is set."""

    def __init__(self) -> None:
        self.held: list[list[str]] = []
        self.failing = False

    async def publish(self, envelopes: Any) -> None:
        await asyncio.sleep(0.01)  # the broker's acknowledgement, during which more decisions arrive
        if self.failing:
            raise ConnectionError("broker down")
        self.held.append([decode(e.type, e.payload).decision_id for e in envelopes])


async def test_decisions_straight_to_the_broker_share_acknowledgements_and_each_is_held_once() -> None:
    broker = FakeBroker()
    recorder = DecisionRecorder(bus=BrokerPublish(bus=broker, source="gateway", municipality="143669"))  # type: ignore[arg-type]
    await asyncio.gather(*(recorder.record(decision(n)) for n in range(50)))
    await recorder.close()
    held = [d for batch in broker.held for d in batch]
    assert sorted(held) == sorted(f"d-{n}" for n in range(50))
    assert len(broker.held) < 50


async def test_a_decision_the_broker_did_not_acknowledge_fails_its_request() -> None:
    broker = FakeBroker()
    broker.failing = True
    recorder = DecisionRecorder(bus=BrokerPublish(bus=broker, source="gateway", municipality="143669"))  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await recorder.record(decision(1))
    broker.failing = False
    await recorder.record(decision(2))
    await recorder.close()
    assert broker.held == [["d-2"]]
