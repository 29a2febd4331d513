"""The decision recorder: group commit, no decision lost, errors reach the requests that wait on them."""

from __future__ import annotations

import asyncio
from typing import Any, Self

import pytest

from mimamori.events.audit.v1 import access_pb2
from mimamori.gateway.service_layer.decisions import DecisionRecorder


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
