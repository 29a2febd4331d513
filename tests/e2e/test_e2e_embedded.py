"""The slice end to end in the embedded form: every module in one process, through the gateway."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import Runtime, running


@pytest.fixture
async def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("MIMAMORI_INGEST_SEED_DEMO", "false")
    settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2)
    async with running(targets=["all"], settings=settings) as runtime:
        yield runtime


def gateway_client(runtime: Runtime) -> httpx.AsyncClient:
    app = runtime.module("gateway").app
    assert app is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000", timeout=30)


def expired_token(runtime: Runtime) -> str:
    issuer = runtime.module("gateway").gateway.dev_issuer  # type: ignore[attr-defined]
    now = int(time.time())
    token: str = issuer.mint("caseworker1", iat=now - 1800, nbf=now - 1800, exp=now - 900)
    return token


async def test_a_caseworker_records_and_reads_an_observation_and_every_decision_is_audited(
    embedded: Runtime, slice_scenario: Any
) -> None:
    async with gateway_client(embedded) as http:
        outcome = await slice_scenario(http, expired_token=expired_token(embedded)).run()

    assert outcome.child_view["single_parent"] is True
    assert outcome.child_view["parents"] == [outcome.parent_id]
    assert (outcome.statuses["create"], outcome.statuses["read"]) == (201, 200)
    assert outcome.observation["text"].startswith("家庭訪問。")
    # The moment it was recorded reads back as the instant the create answered, with its zone (SQLite keeps none).
    recorded = datetime.fromisoformat(outcome.observation["recorded_at"])
    assert recorded.tzinfo is not None
    assert recorded == datetime.fromisoformat(outcome.created_observation["recorded_at"])
    refused = {k: (outcome.statuses[k], outcome.codes[k]) for k in outcome.codes}
    assert refused == {
        "no_purpose": (400, "purpose_required"),
        "purpose_for_other_roles": (403, "purpose_not_allowed"),
        "role_without_purpose": (403, "purpose_not_allowed"),
        "tampered_token": (401, "invalid_token"),
        "no_token": (401, "invalid_token"),
        "expired_token": (401, "invalid_token"),
    }
    assert outcome.verification["ok"] is True
    outcome.assert_decisions_on_record()
    assert outcome.verification["rows_checked"] >= len(outcome.audit_entries)
    denied = [e for e in outcome.audit_entries if e["outcome"] == "denied"]
    reasons = {e["reason"] for e in denied}
    assert reasons == {
        "purpose_required",
        "purpose_not_allowed",
        "invalid_token:bad_signature",
        "invalid_token:expired",
        "invalid_token:missing",
    }
    created = [e for e in outcome.audit_entries if e["recorder"] == "casework" and e["action"] == "create"]
    assert created and created[0]["person_ids"] == [outcome.child_id]
    assert all(e["route"].startswith("/") and outcome.child_id not in e["route"] for e in outcome.audit_entries)
