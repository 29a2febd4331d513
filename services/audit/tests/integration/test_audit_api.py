"""audit as a running module: events in through the bus, auditors' routes out, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from mimamori.contracts import event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.runtime.process import Runtime, running

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> PlatformSettings:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return PlatformSettings(data_dir=tmp_path / "data", database_url=database_url, outbox_poll_seconds=0.05)


@pytest.fixture
async def runtime(settings: PlatformSettings) -> AsyncIterator[Runtime]:
    async with running(targets=["audit"], settings=settings) as started:
        yield started


def client(
    runtime: Runtime, *, roles: list[str], purpose: str, subject: str = "auditor-1"
) -> httpx.AsyncClient:
    signer = runtime.platform.context_signer
    assert signer is not None
    token = signer.sign(
        AccessContext(subject=subject, roles=roles, purpose=purpose, decision_id="d-1", municipality="143669")
    )
    app = runtime.module("audit").app
    assert app is not None
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://audit", headers={CONTEXT_HEADER: token}
    )


async def publish(runtime: Runtime, *messages: access_pb2.AccessRecorded) -> None:
    await runtime.platform.bus.publish(
        [
            Envelope(
                topic=topic_of(m),
                key=m.actor,
                type=event_type(m),
                source="casework",
                payload=m.SerializeToString(),
                municipality="143669",
            )
            for m in messages
        ]
    )
    await runtime.wait_idle(timeout=30)


def access(
    n: int, *, persons: tuple[str, ...] = ("p1",), actor: str = "staff-1"
) -> access_pb2.AccessRecorded:
    return access_pb2.AccessRecorded(
        event_id=str(uuid.uuid4()),
        occurred_at=(T0 + timedelta(minutes=n)).isoformat(),
        recorder="casework",
        actor=actor,
        roles=["caseworker"],
        purpose="case_support",
        action="read",
        method="GET",
        route="/v1/persons/{person_id}/observations",
        person_ids=list(persons),
        outcome=access_pb2.OUTCOME_ALLOWED,
        status_code=200,
    )


async def test_auditor_reads_what_the_services_reported(runtime: Runtime) -> None:
    await publish(
        runtime, access(1, persons=("p1", "p2")), access(2, persons=("p3",)), access(3, actor="staff-2")
    )
    async with client(runtime, roles=["auditor"], purpose="audit_disclosure") as http:
        entries = (await http.get("/v1/entries", params={"actor": "staff-1"})).json()
        assert [e["seq"] for e in entries["items"]] == [1, 2]
        assert entries["items"][0]["person_ids"] == ["p1", "p2"]
        assert entries["items"][0]["outcome"] == "allowed"
        person = (await http.get("/v1/persons/p3/accesses")).json()
        # The auditor's listing above showed p3's access: that read is an access to p3 as well.
        assert [(e["seq"], e["recorder"]) for e in person["items"]] == [(2, "casework"), (4, "audit")]
        actor = (await http.get("/v1/actors/staff-2/accesses")).json()
        assert [e["seq"] for e in actor["items"]] == [3]
        review = await http.get(
            "/v1/reviews/unusual",
            params={
                "since": T0.isoformat(),
                "until": (T0 + timedelta(days=1)).isoformat(),
                "mass_threshold": 1,
            },
        )
        assert review.status_code == 200
        assert [m["actor"] for m in review.json()["mass_lookups"]] == ["staff-1"]
        verified = (await http.get("/v1/verify")).json()
        assert verified["ok"] is True
        # 3 reported accesses, then the auditor's 4 reads before verify: each appended to the ledger.
        assert verified["rows_checked"] == 7
        own = (await http.get("/v1/entries", params={"recorder": "audit"})).json()
        assert [(e["actor"], e["route"]) for e in own["items"]] == [
            ("auditor-1", "/v1/entries"),
            ("auditor-1", "/v1/persons/{person_id}/accesses"),
            ("auditor-1", "/v1/actors/{actor}/accesses"),
            ("auditor-1", "/v1/reviews/unusual"),
            ("auditor-1", "/v1/verify"),
        ]


async def test_only_auditors_under_the_audit_purpose_may_read(runtime: Runtime) -> None:
    async with client(runtime, roles=["caseworker"], purpose="audit_disclosure") as http:
        response = await http.get("/v1/persons/p1/accesses")
        assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"
    async with client(runtime, roles=["auditor"], purpose="case_support") as http:
        response = await http.get("/v1/entries")
        assert response.status_code == 403 and response.json()["code"] == "purpose_not_allowed"
    app = runtime.module("audit").app
    assert app is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://audit"
    ) as anonymous:
        assert (await anonymous.get("/v1/verify")).status_code == 401


async def test_signed_checkpoint_can_be_checked_with_the_published_public_key(runtime: Runtime) -> None:
    await publish(runtime, access(1), access(2))
    async with client(runtime, roles=["sysadmin"], purpose="system_operation") as http:
        assert (await http.get("/v1/checkpoints/latest")).status_code == 404
        created = await http.post("/v1/checkpoints")
        assert created.status_code == 201
        latest = (await http.get("/v1/checkpoints/latest")).json()
    assert latest["seq"] == 2 and latest["id"] == created.json()["id"]
    public = OKPKey.import_key(latest["public_key_pem"])
    assert public.thumbprint() == latest["key_id"]
    signed = jws.deserialize_compact(latest["token"], public, algorithms=["Ed25519"])
    assert b'"seq":2' in signed.payload and latest["hash"].encode() in signed.payload
    other = OKPKey.generate_key("Ed25519")
    with pytest.raises(Exception, match="signature"):
        jws.deserialize_compact(latest["token"], other, algorithms=["Ed25519"])


async def test_checkpoints_are_signed_on_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMAMORI_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "0.1")
    settings = PlatformSettings(data_dir=tmp_path / "data", outbox_poll_seconds=0.05)
    async with running(targets=["audit"], settings=settings) as started:
        await publish(started, access(1))
        async with client(started, roles=["auditor"], purpose="audit_disclosure") as http:
            for _ in range(50):
                response = await http.get("/v1/checkpoints/latest")
                if response.status_code == 200 and response.json()["seq"] == 1:
                    break
                await asyncio.sleep(0.05)
            assert response.json()["seq"] == 1
    assert (tmp_path / "data" / "audit-checkpoint-key.pem").exists()
