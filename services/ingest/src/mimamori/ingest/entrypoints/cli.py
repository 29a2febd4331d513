"""`mimamori ingest load DIR --month YYYYMM`: load a month's files, in-process or through the gateway."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from mimamori.ingest.adapters.file_store import file_chunks
from mimamori.ingest.adapters.layouts import load_layouts
from mimamori.ingest.domain.delivery import FileNameRejected, RunStatus
from mimamori.ingest.entrypoints.api.schemas import LoadRunRead
from mimamori.ingest.service_layer import handlers
from mimamori.ingest.service_layer.handlers import Loading
from mimamori.ingest.service_layer.worker import LoadWorker
from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import running, without_demo_town

FINISHED = {s.value for s in RunStatus if s.finished}
EMBEDDED_TARGETS = ("all",)
GATEWAY_PREFIX = "/api/ingest"


@dataclass
class Plan:
    """What a directory holds for one month: files to load, and files skipped with the reason."""

    month: str
    files: list[Path] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def plan_directory(directory: Path, *, month: str, municipality: str | None = None) -> Plan:
    """The month's files we can load; other months are ignored, the rest of the month is listed as skipped.

    `municipality`: the town whose layouts apply (adapter packages may scope a spec to one town)."""
    layouts = load_layouts(municipality if municipality is not None else PlatformSettings().municipality_code)
    plan = Plan(month=month)
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        match = re.match(r"^[a-z_]+_(\d{6})\.", path.name)
        if match is not None and match[1] != month:
            continue
        try:
            handlers.layout_for(path.name, layouts)
        except FileNameRejected as rejected:
            if match is None and rejected.code == "invalid_file_name":
                plan.skipped.append({"file": path.name, "reason": "unrecognised", "message": rejected.message})
            else:
                plan.skipped.append({"file": path.name, "reason": rejected.code, "message": rejected.message})
            continue
        plan.files.append(path)
    return plan


async def load_embedded(
    plan: Plan,
    *,
    settings: PlatformSettings,
    targets: tuple[str, ...] = ("all",),
    idle_timeout: float = 3600.0,
) -> list[dict[str, Any]]:
    """Start the platform in-process, load the plan's files one by one, wait until consumers caught up."""
    with without_demo_town():
        async with running(targets=list(targets), settings=settings) as runtime:
            app = runtime.module("ingest").app
            assert app is not None
            loading: Loading = app.state.loading
            worker: LoadWorker = app.state.worker
            context = AccessContext(
                subject=f"cli:{getpass.getuser()}",
                roles=["data_officer"],
                purpose=handlers.PURPOSE,
                decision_id="",
                municipality=settings.municipality_code,
            )
            run_ids = []
            for path in plan.files:
                run = await handlers.receive_file(
                    path.name,
                    chunks=file_chunks(path),
                    loading=loading,
                    context=context,
                    route="cli:ingest-load",
                    max_bytes=app.state.max_upload_bytes,
                )
                worker.submit(run.id)
                run_ids.append(run.id)
            for run_id in run_ids:
                await worker.wait(run_id)
            await runtime.wait_idle(timeout=idle_timeout)
            results = []
            for run_id in run_ids:
                run = await handlers.get_run(run_id, uow=loading.uow())
                results.append(LoadRunRead.of(run).model_dump(mode="json"))
            return results


async def upload(
    plan: Plan, *, url: str, token: str, transport: httpx.AsyncBaseTransport | None = None, poll: float = 0.5
) -> list[dict[str, Any]]:
    """Upload through the gateway (purpose system_operation) and poll each run until it ends."""
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": handlers.PURPOSE}
    timeout = httpx.Timeout(60.0, read=600.0, write=600.0)
    results: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        base_url=url.rstrip("/"), headers=headers, transport=transport, timeout=timeout
    ) as client:
        for path in plan.files:
            response = await client.post(
                f"{GATEWAY_PREFIX}/v1/files",
                params={"file_name": path.name},
                content=file_chunks(path),
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(path.stat().st_size),
                },
            )
            if response.status_code != 202:
                results.append(_refused(path.name, response))
                continue
            run = response.json()
            while run["status"] not in FINISHED:
                await asyncio.sleep(poll)
                polled = await client.get(f"{GATEWAY_PREFIX}/v1/load-runs/{run['id']}")
                polled.raise_for_status()
                run = polled.json()
            results.append(run)
    return results


def _refused(name: str, response: httpx.Response) -> dict[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    return {
        "id": None,
        "status": "refused",
        "file": {"name": name},
        "http_status": response.status_code,
        "error": {
            "code": problem.get("code", "http_error"),
            "message": problem.get("detail") or problem.get("title", ""),
        },
    }


def summary_line(result: dict[str, Any]) -> str:
    """One line per file: status, records, quarantined, unchanged, removed."""
    name = result["file"]["name"]
    status = result["status"]
    if status == RunStatus.SUCCEEDED.value:
        c = result["counts"]
        line = (
            f"{name}: {status} records={c['rows'] - c['quarantined']} added={c['added']} "
            f"changed={c['changed']} unchanged={c['unchanged']} removed={c['removed']} "
            f"quarantined={c['quarantined']}"
        )
        if result.get("duplicate"):
            line += " (duplicate: same bytes as an accepted delivery, nothing changed)"
        if result.get("removals_withheld"):
            line += " (removals withheld: some rows had an unreadable key)"
        return line
    error = result.get("error") or {}
    return f"{name}: {status} {error.get('code', '')}: {error.get('message', '')}"


def _month(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", value):
        raise click.BadParameter("YYYYMM expected, e.g. 202604")
    return value


@click.group(name="ingest")
def ingest() -> None:
    """Source files: load a month's deliveries (住民記録 and, later, the other layouts)."""


@ingest.command("load")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--month", required=True, callback=_month, help="extraction month YYYYMM of the files to load")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="embedded form: the platform's data directory (default: MIMAMORI_DATA_DIR or .mimamori)",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the summary as JSON to this file",
)
@click.option("--url", default=None, help="upload through the gateway at this URL instead of loading in-process")
@click.option("--token", default=None, help="access token for --url (a data_officer or sysadmin)")
def load(
    directory: Path,
    month: str,
    data_dir: Path | None,
    json_path: Path | None,
    url: str | None,
    token: str | None,
) -> None:
    """Load every recognised file of MONTH in DIRECTORY; print one line per file."""
    if url and not token:
        raise click.UsageError("--url needs --token")
    settings = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    plan = plan_directory(directory, month=month, municipality=settings.municipality_code)
    if url:
        results = asyncio.run(upload(plan, url=url, token=token or ""))
    else:
        results = asyncio.run(load_embedded(plan, settings=settings, targets=EMBEDDED_TARGETS))
    for result in results:
        click.echo(summary_line(result))
    for skipped in plan.skipped:
        click.echo(f"{skipped['file']}: skipped ({skipped['reason']}) {skipped['message']}")
    if json_path is not None:
        json_path.write_text(
            json.dumps({"month": month, "files": results, "skipped": plan.skipped}, ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    if any(r["status"] != RunStatus.SUCCEEDED.value for r in results):
        raise SystemExit(1)
