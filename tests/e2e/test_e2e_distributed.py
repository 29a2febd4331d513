"""The slice end to end in the distributed form: each module its own process, PostgreSQL (a schema and a role
per service), real Kafka, the gateway forwarding over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.kit.auth import generate_signing_key
from mimamori.kit.provisioning import provision_service

pytestmark = pytest.mark.integration

SERVICES = ("audit", "ingest", "identity", "risk", "casework")
MIMAMORI = str(Path(sys.executable).with_name("mimamori"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def healthy(url: str, process: subprocess.Popen[bytes], log: Path, *, within: float = 90.0) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(int(within / 0.25)):
            if process.poll() is not None:
                raise AssertionError(f"{log.stem} exited:\n{log.read_text()[-3000:]}")
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError(f"{log.stem} did not come up:\n{log.read_text()[-3000:]}")


@pytest.fixture
async def distributed(
    postgres_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> AsyncIterator[str]:
    key = generate_signing_key()
    (tmp_path / "context.key").write_bytes(key.as_pem(private=True))
    (tmp_path / "context.pub").write_bytes(key.as_pem(private=False))
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    common = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")},
        "MIMAMORI_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "MIMAMORI_KAFKA_NAMESPACE": f"t{unique}.",
        "MIMAMORI_INGEST_SEED_DEMO": "false",
        "MIMAMORI_OUTBOX_POLL_SECONDS": "0.2",
        "MIMAMORI_LOG_LEVEL": "WARNING",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in (*SERVICES, "gateway"):
            env = {
                **common,
                "MIMAMORI_DATABASE_URL": await provision_service(
                    admin_url=postgres_url, service=name, password=f"{name}-{unique}"
                ),
                "MIMAMORI_DATA_DIR": str(tmp_path / name),
                "MIMAMORI_CONTEXT_PUBLIC_KEY_FILE": str(tmp_path / "context.pub"),
            }
            if name == "gateway":
                env |= {
                    "MIMAMORI_CONTEXT_PRIVATE_KEY_FILE": str(tmp_path / "context.key"),
                    "MIMAMORI_GATEWAY_UPSTREAMS": json.dumps(
                        {s: f"http://127.0.0.1:{ports[s]}" for s in SERVICES}
                    ),
                    "MIMAMORI_GATEWAY_DEV_ISSUER_BASE_URL": f"http://127.0.0.1:{ports['gateway']}",
                }
            log = tmp_path / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [MIMAMORI, "run", "--target", name, "--port", str(ports[name])],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.append(process)
        for name, process in zip((*SERVICES, "gateway"), processes, strict=True):
            await healthy(f"http://127.0.0.1:{ports[name]}", process, tmp_path / f"{name}.log")
        yield f"http://127.0.0.1:{ports['gateway']}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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
    assert "/api/casework/v1/persons/{person_id}/observations" in openapi["paths"]
