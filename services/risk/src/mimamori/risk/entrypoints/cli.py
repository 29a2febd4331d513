"""`mimamori risk export`: a rule's scores or an eligibility list of a month as CSV, from the embedded data
directory or through the gateway."""

from __future__ import annotations

import asyncio
import getpass
import re
from pathlib import Path

import click
import httpx

from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import running
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.service_layer import exports

GATEWAY_PREFIX = "/api/risk"
CLI_ROUTE = "cli:risk-export"


def _month(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", value):
        raise click.BadParameter("YYYYMM expected, e.g. 202604")
    return value


async def export_embedded(
    *, settings: PlatformSettings, month: str, rule: str | None, eligibility: str | None
) -> list[list[str]]:
    """Start risk in-process on the data directory and read the export."""
    async with running(targets=["risk"], settings=settings) as runtime:
        app = runtime.module("risk").app
        assert app is not None
        factory = app.state.uow_factory
        parsed = AssessmentMonth.parse(month)
        # The operator's export is audited like a read through the gateway; the event waits in risk's outbox
        # until the audit service takes it.
        context = AccessContext(
            subject=f"cli:{getpass.getuser()}",
            roles=["data_officer"],
            purpose=exports.ELIGIBILITY_PURPOSE if eligibility else "early_detection",
            decision_id="",
            municipality=settings.municipality_code,
        )
        if eligibility:
            return await exports.eligibility_rows(
                eligibility, month=parsed, uow=factory(), context=context, route=CLI_ROUTE
            )
        return await exports.rule_rows(rule or "", month=parsed, uow=factory(), context=context, route=CLI_ROUTE)


async def export_remote(*, url: str, token: str, month: str, rule: str | None, eligibility: str | None) -> str:
    """Ask a running deployment through the gateway (eligibility lists need the purpose eligibility_check)."""
    purpose = "eligibility_check" if eligibility else "early_detection"
    path = f"/v1/eligibility/{eligibility}/export" if eligibility else f"/v1/rules/{rule}/export"
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=600) as client:
        response = await client.get(
            f"{GATEWAY_PREFIX}{path}",
            params={"month": month},
            headers={"Authorization": f"Bearer {token}", "X-Purpose": purpose},
        )
        response.raise_for_status()
        return response.text


@click.group(name="risk")
def risk() -> None:
    """Risk scores and eligibility lists."""


@risk.command("export")
@click.option("--rule", default=None, help="rule id, e.g. young_carer")
@click.option("--eligibility", type=click.Choice(["E1", "E2", "E3"]), default=None, help="an eligibility list")
@click.option("--month", required=True, callback=_month, help="assessment month YYYYMM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="embedded data dir")
@click.option("--url", default=None, help="read through the gateway at this URL instead")
@click.option("--token", default=None, help="access token for --url")
def export(
    rule: str | None,
    eligibility: str | None,
    month: str,
    out: Path,
    data_dir: Path | None,
    url: str | None,
    token: str | None,
) -> None:
    """One line per scored child (宛名番号, sub-scores, total) or per person on an eligibility list."""
    if (rule is None) == (eligibility is None):
        raise click.UsageError("give exactly one of --rule and --eligibility")
    if url:
        if not token:
            raise click.UsageError("--url needs --token")
        text = asyncio.run(export_remote(url=url, token=token, month=month, rule=rule, eligibility=eligibility))
    else:
        settings = PlatformSettings(data_dir=data_dir) if data_dir else PlatformSettings()
        try:
            rows = asyncio.run(export_embedded(settings=settings, month=month, rule=rule, eligibility=eligibility))
        except exports.UnknownRule as exc:
            raise click.UsageError(f"unknown rule: {rule}") from exc
        text = exports.as_csv(rows)
    out.write_text(text, encoding="utf-8")
    click.echo(f"{out}: {max(0, text.count(chr(10)) - 1)} rows")
