"""`mimamori audit verify`: from outside the service, on the embedded data dir and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mimamori.audit.entrypoints.cli import audit
from mimamori.contracts import event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.runtime.cli import main
from mimamori.kit.runtime.process import running

pytestmark = pytest.mark.integration


async def populate(settings: PlatformSettings, *, accesses: int) -> str:
    """Run audit, feed it accesses, sign a checkpoint; return the public key PEM it published."""
    async with running(targets=["audit"], settings=settings) as runtime:
        messages = [
            access_pb2.AccessRecorded(
                event_id=str(uuid.uuid4()),
                occurred_at="2026-04-01T01:00:00+00:00",
                recorder="casework",
                actor=f"staff-{i}",
                person_ids=[f"p{i}"],
                outcome=access_pb2.OUTCOME_ALLOWED,
            )
            for i in range(accesses)
        ]
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
        signer = runtime.platform.context_signer
        app = runtime.module("audit").app
        assert signer is not None and app is not None
        token = signer.sign(
            AccessContext(
                subject="ops",
                roles=["sysadmin"],
                purpose="system_operation",
                decision_id="d",
                municipality="x",
            )
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://audit", headers={CONTEXT_HEADER: token}
        ) as http:
            response = await http.post("/v1/checkpoints")
            assert response.status_code == 201
            public_key: str = response.json()["public_key_pem"]
            return public_key


def test_verify_passes_on_a_clean_data_dir_and_names_the_row_edited_in_the_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    asyncio.run(populate(PlatformSettings(data_dir=data_dir, outbox_poll_seconds=0.05), accesses=5))
    runner = CliRunner()

    clean = runner.invoke(main, ["audit", "verify", "--data-dir", str(data_dir)])
    assert clean.exit_code == 0, clean.output
    assert "rows checked: 5" in clean.output and "signatures checked" in clean.output
    assert clean.output.rstrip().endswith("OK")

    database = sqlite3.connect(data_dir / "audit.db")
    try:
        event_id, body = database.execute("SELECT event_id, body FROM ledger WHERE seq = 3").fetchone()
        database.execute("DROP TRIGGER ledger_no_update")
        database.execute("UPDATE ledger SET body = ? WHERE seq = 3", (body.replace("staff-2", "staff-0"),))
        database.commit()
    finally:
        database.close()

    tampered = runner.invoke(audit, ["verify", "--data-dir", str(data_dir), "--json"])
    assert tampered.exit_code == 1
    report = json.loads(tampered.output)
    assert report["ok"] is False
    assert report["first_fault"]["seq"] == 3
    assert report["first_fault"]["event_id"] == event_id
    assert report["first_fault"]["reason"] == "hash_mismatch"


def test_verify_on_postgresql_checks_checkpoints_with_the_published_key(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = PlatformSettings(
        data_dir=tmp_path / "data", database_url=postgres_url, outbox_poll_seconds=0.05
    )
    public_pem = asyncio.run(populate(settings, accesses=3))
    key_file = tmp_path / "checkpoint.pub.pem"
    key_file.write_text(public_pem)
    runner = CliRunner()
    result = runner.invoke(audit, ["verify", "--database-url", postgres_url, "--public-key", str(key_file)])
    assert result.exit_code == 0, result.output
    assert "checkpoints checked: 1" in result.output

    stranger = tmp_path / "stranger.pem"
    stranger.write_text(runner.invoke(audit, ["keygen", str(tmp_path / "other.key")]).output)
    forged = runner.invoke(audit, ["verify", "--database-url", postgres_url, "--public-key", str(stranger)])
    assert forged.exit_code == 1
    assert "bad_signature" in forged.output


def test_verify_refuses_to_skip_signatures_silently(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    asyncio.run(populate(PlatformSettings(data_dir=data_dir, outbox_poll_seconds=0.05), accesses=1))
    (data_dir / "audit-checkpoint-key.pem").unlink()
    runner = CliRunner()
    refused = runner.invoke(audit, ["verify", "--data-dir", str(data_dir)])
    assert refused.exit_code != 0 and "--public-key" in refused.output
    skipped = runner.invoke(audit, ["verify", "--data-dir", str(data_dir), "--skip-signatures"])
    assert skipped.exit_code == 0 and "signatures NOT checked" in skipped.output
