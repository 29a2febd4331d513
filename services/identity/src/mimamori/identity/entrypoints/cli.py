"""`mimamori identity export-links --out FILE.csv`: the links of every person reference, embedded or remote;
`mimamori identity rematch`: match again after an upgrade changed the matching rules."""

from __future__ import annotations

import asyncio
import csv
import getpass
from pathlib import Path

import click
import httpx

from mimamori.identity.service_layer.export import COLUMNS, LinkLine, link_lines
from mimamori.identity.service_layer.rematch import RematchCounts, rematch
from mimamori.identity.service_layer.resolution import Origin
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import running, without_demo_town

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


async def rematch_here(settings: PlatformSettings, *, idle_timeout: float = 3600.0) -> RematchCounts:
    """Match again where the platform's data is: embedded, every module in-process so risk hears the new answers;
    distributed (a database URL set), identity alone, its events leaving through Kafka."""
    targets = ["identity"] if settings.database_url else ["all"]
    with without_demo_town():
        async with running(targets=targets, settings=settings) as runtime:
            app = runtime.module("identity").app
            assert app is not None
            origin = Origin(actor=f"cli:{getpass.getuser()}", purpose="system_operation")
            counts = await rematch(units=app.state.uow_factory, origin=origin)
            await runtime.wait_idle(timeout=idle_timeout)
            return counts


def write_csv(lines: list[LinkLine], out: Path) -> None:
    """The export file: UTF-8, one header line, one line per person reference."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for line in sorted(lines, key=lambda x: (x.file, x.row, x.role)):
            writer.writerow(line.as_row())


@click.group(name="identity")
def identity() -> None:
    """The master person index (名寄せ): export links, match again."""


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


@identity.command("rematch")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="embedded form: the platform's data directory (default: MIMAMORI_DATA_DIR or .mimamori)",
)
def rematch_command(data_dir: Path | None) -> None:
    """After an upgrade that changed matching: refile every person and resolve every unlinked reference again."""
    settings = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
    counts = asyncio.run(rematch_here(settings))
    click.echo(f"rematch: {counts.persons} persons refiled, {counts.records} records resolved again")
