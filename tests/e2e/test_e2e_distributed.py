"""The slice end to end in the distributed form: each module its own process, PostgreSQL (a schema and a role
per service), real Kafka, the gateway forwarding over HTTP. casework and the gateway run two replicas each, as the
production overlay does (`deploy/k8s/overlays/prod`): their migrations take turns, one casework replica relays
its outbox, and the kernel spreads connections across the replicas of a port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.kit.db import advisory_holders, create_engine, driver_connection
from mimamori.kit.messaging.outbox import relay_lease_key
from mimamori.kit.testing import deployment

pytestmark = pytest.mark.integration


REPLICAS = {"casework": 2, "gateway": 2}


@pytest.fixture
async def distributed(
    postgres_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> AsyncIterator[deployment.Deployment]:
    async with deployment.distributed(
        admin_url=postgres_url,
        kafka_bootstrap=kafka_bootstrap,
        namespace=f"t{unique}.",
        directory=tmp_path,
        replicas=REPLICAS,
    ) as started:
        yield started


async def test_the_slice_works_with_every_module_in_its_own_process(
    distributed: deployment.Deployment, postgres_url: str, slice_scenario: Any
) -> None:
    assert {"casework", "casework.2", "gateway", "gateway.2"} <= set(distributed.pids)
    async with httpx.AsyncClient(base_url=distributed.url("gateway"), timeout=30) as http:
        outcome = await slice_scenario(http).run()
        openapi = (await http.get("/openapi.json")).json()
    # One casework replica holds its outbox's relay lease (the other tells it of its commits).
    assert await relay_leases(postgres_url, "casework") == 1
    # Both gateway replicas take the development issuer's tokens and reach casework: reads on fresh connections,
    # which the kernel spreads over the replicas, all succeed (with a key per replica about half were refused).
    statuses = await reads_on_fresh_connections(distributed.url("gateway"), outcome.child_id, count=20)
    assert statuses == [200] * 20
    assert outcome.child_view["single_parent"] is True
    assert outcome.child_view["parents"] == [outcome.parent_id]
    assert (outcome.statuses["create"], outcome.statuses["read"]) == (201, 200)
    assert outcome.observation["text"].startswith("家庭訪問。")
    # The moment it was recorded reads back as the instant the create answered, with its zone (SQLite keeps none).
    recorded = datetime.fromisoformat(outcome.observation["recorded_at"])
    assert recorded.tzinfo is not None
    assert recorded == datetime.fromisoformat(outcome.created_observation["recorded_at"])
    assert {k: outcome.statuses[k] for k in outcome.codes} == {
        "no_purpose": 400,
        "purpose_for_other_roles": 403,
        "role_without_purpose": 403,
        "tampered_token": 401,
        "no_token": 401,
    }
    assert outcome.verification["ok"] is True
    outcome.assert_decisions_on_record()
    assert "/api/casework/v1/persons/{person_id}/observations" in openapi["paths"]


async def relay_leases(url: str, schema: str) -> int:
    """How many sessions hold the relay lease of a service's outbox."""
    engine = create_engine(url, schema=None, pool_size=1)
    try:
        async with driver_connection(engine) as driver:
            return await advisory_holders(driver, relay_lease_key(schema, "outbox"))
    finally:
        await engine.dispose()


async def reads_on_fresh_connections(base_url: str, person_id: str, *, count: int) -> list[int]:
    """The statuses of `count` reads of a person's 見守り情報, each on a new connection, with one token."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        issued = await http.post(
            "/dev-oidc/token", data={"grant_type": "password", "username": "caseworker1", "password": "demo"}
        )
    headers = {"Authorization": f"Bearer {issued.json()['access_token']}", "X-Purpose": "case_support"}
    statuses = []
    for _ in range(count):
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            read = await http.get(f"/api/casework/v1/persons/{person_id}/observations", headers=headers)
            statuses.append(read.status_code)
    return statuses
