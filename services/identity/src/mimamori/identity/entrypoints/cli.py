"""`mimamori identity export-links --out FILE.csv`: the links of every person reference, embedded or remote."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import click
import httpx

from mimamori.identity.service_layer.export import COLUMNS, LinkLine, link_lines
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import running

GATEWAY_PREFIX = "/api/identity"
PURPOSE = "early_detection"
PAGE = 5000


async def embedded_lines(settings: PlatformSettings) -> list[LinkLine]:
    """Start identity alone on the data directory (no events flow) and read every line."""
    async with running(targets=["identity"], settings=settings) as runtime:
        app = runtime.module("identity").app
        assert app is not None
        factory = app.state.uow_factory
        lines: list[LinkLine] = []
        while True:
            uow: IdentityUnitOfWork = factory()
            page = await link_lines(uow=uow, offset=len(lines), limit=PAGE)
            lines.extend(page)
            if len(page) < PAGE:
                return lines


async def remote_lines(*, url: str, token: str, transport: httpx.AsyncBaseTransport | None = None) -> list[LinkLine]:
    """Read every line through the gateway, a page at a time."""
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": PURPOSE}
    lines: list[LinkLine] = []
    async with httpx.AsyncClient(
        base_url=url.rstrip("/"), headers=headers, transport=transport, timeout=httpx.Timeout(120.0)
    ) as client:
        offset: int | None = 0
        while offset is not None:
            response = await client.get(f"{GATEWAY_PREFIX}/v1/links", params={"offset": offset, "limit": PAGE})
            response.raise_for_status()
            body = response.json()
            lines.extend(LinkLine(**item) for item in body["items"])
            offset = body["next_offset"]
    return lines


def write_csv(lines: list[LinkLine], out: Path) -> None:
    """The export file: UTF-8, one header line, one line per person reference."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for line in sorted(lines, key=lambda x: (x.file, x.row, x.role)):
            writer.writerow(line.as_row())


@click.group(name="identity")
def identity() -> None:
    """The master person index (名寄せ): export links."""


@identity.command("export-links")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="embedded form: the platform's data directory (default: MIMAMORI_DATA_DIR or .mimamori)",
)
@click.option("--url", default=None, help="read through the gateway at this URL instead of the data directory")
@click.option("--token", default=None, help="access token for --url (team_leader or caseworker, early_detection)")
def export_links(out: Path, data_dir: Path | None, url: str | None, token: str | None) -> None:
    """Write one line per person reference: source, file, row, role, person id, 宛名番号, grade."""
    if url and not token:
        raise click.UsageError("--url needs --token")
    if url:
        lines = asyncio.run(remote_lines(url=url, token=token or ""))
    else:
        settings = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
        lines = asyncio.run(embedded_lines(settings))
    write_csv(lines, out)
    linked = sum(1 for line in lines if line.person_id)
    click.echo(f"{out}: {len(lines)} references, {linked} linked")
