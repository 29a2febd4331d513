"""Bench: an authenticated point read through the gateway, audit included, against the same read sent to the
service directly, in the same run, on the distributed form (each module its own process, PostgreSQL, Kafka).

The read is `GET /v1/persons/{id}/observations` of casework (a 見守り情報 page): the gateway validates the
token, checks role x purpose x route, records its decision, signs the context and forwards; casework verifies
the context, reads, and records its own access in the same transaction. The load is open-loop (requests start
on schedule whatever the answers), latency counted from the scheduled start, so queueing is not hidden.
Usage: python bench/gateway_latency.py --rate 300 --seconds 20 --out bench/results/gateway_latency.json
Needs MIMAMORI_TEST_DATABASE_URL and MIMAMORI_TEST_KAFKA_BOOTSTRAP (bench.sh starts the local servers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from stats import percentile  # bench/ is on sys.path when a bench runs as a script

from mimamori.kit.auth import AccessContext, ContextSigner, load_key
from mimamori.kit.testing import deployment
from mimamori.kit.testing.servers import fresh_database
from mimamori.synthtown import generate_town


async def until(probe: Callable[[], Awaitable[Any]], *, within: float = 120) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise TimeoutError("the platform did not get there in time")


async def seed(http: aiohttp.ClientSession, gateway: str, directory: Path) -> tuple[str, str]:
    """Load a small synthetic town through the gateway; return a caseworker's token and a known person id."""

    async def token(user: str) -> str:
        form = {"grant_type": "password", "username": user, "password": "demo"}
        async with http.post(f"{gateway}/dev-oidc/token", data=form) as r:
            return str((await r.json())["access_token"])

    officer, caseworker = await token("data_officer1"), await token("caseworker1")
    generate_town(seed=7, households=40, months=["202604"], out_dir=directory, noise=False)
    jumin = directory / "jumin_202604.csv"
    body = jumin.read_bytes()
    atena = body.decode("cp932").splitlines()[1].split(",")[0]
    headers = {"Authorization": f"Bearer {officer}", "X-Purpose": "system_operation"}
    async with http.post(f"{gateway}/api/ingest/v1/files?file_name={jumin.name}", data=body, headers=headers) as r:
        assert r.status == 202, await r.text()
    read = {"Authorization": f"Bearer {caseworker}", "X-Purpose": "case_support"}

    async def person() -> str | None:
        async with http.get(f"{gateway}/api/identity/v1/persons", params={"atena_no": atena}, headers=read) as r:
            items = (await r.json())["items"] if r.status == 200 else []
            return str(items[0]["id"]) if items else None

    person_id: str = await until(person)

    async def known() -> bool:
        async with http.get(f"{gateway}/api/casework/v1/persons/{person_id}/observations", headers=read) as r:
            return r.status == 200

    await until(known)
    return caseworker, person_id


async def load(
    http: aiohttp.ClientSession,
    *,
    url: str,
    headers: Callable[[], dict[str, str]],
    rate: int,
    seconds: float,
) -> tuple[list[float], int]:
    """Open-loop GETs at `rate` per second; latencies in ms from each request's scheduled start."""
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        async with http.get(url, headers=headers()) as r:
            await r.read()
            if r.status != 200:
                errors += 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return latencies, errors


def summary(latencies: list[float], errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


async def run(*, rates: list[int], seconds: float, warmup: float) -> dict[str, Any]:
    admin = os.environ["MIMAMORI_TEST_DATABASE_URL"]
    kafka = os.environ["MIMAMORI_TEST_KAFKA_BOOTSTRAP"]
    with fresh_database(admin) as url, tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        # One bench user sends every request: lift the per-user rate limit (20/s by default) out of the way.
        limits = {"MIMAMORI_GATEWAY_RATE_LIMIT_PER_SECOND": "0"}
        async with deployment.distributed(
            admin_url=url,
            kafka_bootstrap=kafka,
            namespace=f"b{uuid.uuid4().hex[:8]}.",
            directory=directory,
            extra_env=limits,
        ) as started:
            connector = aiohttp.TCPConnector(limit=200)
            async with aiohttp.ClientSession(connector=connector) as http:
                token, person_id = await seed(http, started.url("gateway"), directory / "town")
                signer = ContextSigner(load_key(started.private_key_pem.decode()))
                context = AccessContext(
                    subject="bench-caseworker",
                    roles=["caseworker"],
                    org_unit="kodomo-ikusei",
                    purpose="case_support",
                    decision_id=str(uuid.uuid4()),
                    municipality="143669",
                )
                signed = {"at": 0.0, "token": ""}

                def direct_headers() -> dict[str, str]:
                    if time.monotonic() - signed["at"] > 30:  # contexts live 60 s
                        signed["at"], signed["token"] = time.monotonic(), signer.sign(context)
                    return {"X-Mimamori-Context": str(signed["token"])}

                def gateway_headers() -> dict[str, str]:
                    return {"Authorization": f"Bearer {token}", "X-Purpose": "case_support"}

                path = f"/v1/persons/{person_id}/observations"
                direct_url = started.url("casework") + path
                gateway_url = started.url("gateway") + "/api/casework" + path
                results: dict[str, Any] = {}
                for rate in rates:
                    phases: dict[str, Any] = {}
                    for phase, target, headers in (
                        ("direct", direct_url, direct_headers),
                        ("gateway", gateway_url, gateway_headers),
                    ):
                        await load(http, url=target, headers=headers, rate=rate, seconds=warmup)
                        measured = await load(http, url=target, headers=headers, rate=rate, seconds=seconds)
                        phases[phase] = summary(*measured)
                    phases["gateway_hop_p50_ms"] = round(phases["gateway"]["p50_ms"] - phases["direct"]["p50_ms"], 2)
                    phases["met"] = (
                        phases["gateway"]["p99_ms"] <= 15
                        and phases["gateway_hop_p50_ms"] <= 1.5
                        and phases["gateway"]["errors"] == 0
                    )
                    results[f"{rate}_per_s"] = phases
    return {
        "bench": "authenticated point read through the gateway (audit included) vs the service directly",
        "deployment": "distributed: one process per module, PostgreSQL, Kafka, on this machine",
        "seconds_per_phase": seconds,
        "targets": {"rate_per_s": 300, "gateway_p99_ms": 15, "hop_p50_ms": 1.5},
        **results,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="30,100,300", help="comma-separated request rates to measure")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/gateway_latency.json"))
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    result = asyncio.run(run(rates=rates, seconds=args.seconds, warmup=args.warmup))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
