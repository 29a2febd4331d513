"""The slice end to end in the distributed form: each module its own process, PostgreSQL (a schema and a role
per service), real Kafka, the gateway forwarding over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.kit.testing import deployment

pytestmark = pytest.mark.integration


@pytest.fixture
async def distributed(postgres_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path) -> AsyncIterator[str]:
    async with deployment.distributed(
        admin_url=postgres_url, kafka_bootstrap=kafka_bootstrap, namespace=f"t{unique}.", directory=tmp_path
    ) as started:
        yield started.url("gateway")


async def test_the_slice_works_with_every_module_in_its_own_process(distributed: str, slice_scenario: Any) -> None:
    async with httpx.AsyncClient(base_url=distributed, timeout=30) as http:
        outcome = await slice_scenario(http).run()
        openapi = (await http.get("/openapi.json")).json()
    assert outcome.child_view["single_parent"] is True
    assert outcome.child_view["parents"] == [outcome.parent_id]
    assert (outcome.statuses["create"], outcome.statuses["read"]) == (201, 200)
    assert outcome.observation["text"].startswith("家庭訪問。")
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
