"""`mimamori audit …`: verify the ledger from outside the service, provision its database role, make a key."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import click
from sqlalchemy import MetaData

from mimamori.audit.adapters.checkpoints import CheckpointRepository
from mimamori.audit.adapters.ledger import LedgerRepository
from mimamori.audit.adapters.provisioning import SCHEMA, provision
from mimamori.audit.adapters.signing import KEY_FILE, CheckpointKey
from mimamori.audit.adapters.tables import define_tables
from mimamori.audit.config import AuditSettings
from mimamori.audit.domain.verification import VerificationReport
from mimamori.audit.service_layer.verification import verify_ledger
from mimamori.kit.config import PlatformSettings
from mimamori.kit.db import create_engine, is_sqlite, session_factory

DATABASE_FILE = "audit.db"


@click.group(name="audit")
def audit() -> None:
    """監査ログ (the audit ledger): verify it, provision its database role, make a checkpoint key."""


def _sqlite_url(data_dir: Path) -> str:
    path = (data_dir / DATABASE_FILE).resolve()
    if not path.exists():
        raise click.ClickException(f"no audit ledger at {path}")
    return f"sqlite+aiosqlite:///{path}"


def _trusted_key(public_key: Path | None, data_dir: Path | None) -> CheckpointKey | None:
    """The key the verifier trusts: given, configured, or the embedded form's key in its data dir."""
    if public_key is not None:
        return CheckpointKey.from_pem(public_key.read_bytes())
    settings = AuditSettings()
    if settings.checkpoint_public_key:
        return CheckpointKey.from_pem(settings.checkpoint_public_key)
    if settings.checkpoint_key:
        return CheckpointKey.from_pem(settings.checkpoint_key)
    if data_dir is not None and (data_dir / KEY_FILE).exists():
        return CheckpointKey.from_pem((data_dir / KEY_FILE).read_bytes())
    return None


async def _verify(url: str, *, schema: str, key: CheckpointKey | None) -> VerificationReport:
    tables = define_tables(MetaData())
    engine = create_engine(url, schema=None if is_sqlite(url) else schema, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            return await verify_ledger(
                ledger=LedgerRepository(session, tables),
                checkpoints=CheckpointRepository(session, tables),
                open_token=key.open if key is not None else None,
            )
    finally:
        await engine.dispose()


@audit.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="embedded form: the data dir")
@click.option("--database-url", help="distributed form: PostgreSQL URL (postgresql+asyncpg://…)")
@click.option("--schema", default=SCHEMA, show_default=True, help="the audit service's schema (PostgreSQL)")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM the checkpoints must verify",
)
@click.option("--skip-signatures", is_flag=True, help="check the chain and checkpoint hashes, not who signed them")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def verify(
    data_dir: Path | None,
    database_url: str | None,
    schema: str,
    public_key: Path | None,
    skip_signatures: bool,
    as_json: bool,
) -> None:
    """Recompute the chain from its first row and check every signed checkpoint; exit 1 on any fault.

    Without --data-dir or --database-url: MIMAMORI_AUDIT_DATABASE_URL, MIMAMORI_DATABASE_URL, else the data
    dir (MIMAMORI_DATA_DIR, default .mimamori)."""
    if data_dir is not None and database_url is not None:
        raise click.UsageError("give --data-dir or --database-url, not both")
    if data_dir is None and database_url is None:
        database_url = os.environ.get("MIMAMORI_AUDIT_DATABASE_URL") or PlatformSettings().database_url
        if database_url is None:
            data_dir = PlatformSettings().data_dir
    url = database_url if database_url is not None else _sqlite_url(data_dir or Path("."))
    key = None if skip_signatures else _trusted_key(public_key, data_dir)
    if key is None and not skip_signatures:
        raise click.ClickException(
            "no key to check the checkpoints with: give --public-key "
            "(or MIMAMORI_AUDIT_CHECKPOINT_PUBLIC_KEY), or --skip-signatures"
        )
    report = asyncio.run(_verify(url, schema=schema, key=key))
    if as_json:
        click.echo(json.dumps({"ok": report.ok, **asdict(report)}, ensure_ascii=False, indent=2))
    else:
        _print(report, signatures=key is not None)
    sys.exit(0 if report.ok else 1)


def _print(report: VerificationReport, *, signatures: bool) -> None:
    click.echo(f"rows checked: {report.rows_checked}; head seq {report.head_seq} hash {report.head_hash}")
    checked = "checked" if signatures else "NOT checked"
    click.echo(f"checkpoints checked: {report.checkpoints_checked} (signatures {checked})")
    fault = report.first_fault
    if fault is not None:
        click.echo(
            f"FIRST ROW THAT DOES NOT FIT: seq {fault.seq} event_id {fault.event_id}: {fault.reason} "
            f"(expected {fault.expected}, found {fault.found})"
        )
    for bad in report.checkpoint_faults:
        click.echo(f"CHECKPOINT {bad.checkpoint_id} (seq {bad.seq}) DOES NOT HOLD: {bad.reason}")
    click.echo("OK" if report.ok else "FAILED")


@audit.command(name="provision")
@click.option(
    "--admin-url",
    required=True,
    envvar="MIMAMORI_AUDIT_MIGRATION_DATABASE_URL",
    help="the schema owner's URL",
)
@click.option("--role", "runtime_role", default="audit_runtime", show_default=True, help="the runtime role to create")
@click.option(
    "--password",
    envvar="MIMAMORI_AUDIT_RUNTIME_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="the runtime role's password (or env MIMAMORI_AUDIT_RUNTIME_PASSWORD)",
)
@click.option("--schema", default=SCHEMA, show_default=True)
def provision_command(admin_url: str, runtime_role: str, password: str, schema: str) -> None:
    """Migrate the audit schema as its owner and create a runtime role that may only read and append."""
    asyncio.run(provision(admin_url, runtime_role=runtime_role, password=password, schema=schema))
    click.echo(f"role {runtime_role}: USAGE on schema {schema}; SELECT, INSERT on the ledger tables")


@audit.command()
@click.argument("private_key_file", type=click.Path(dir_okay=False, path_type=Path))
def keygen(private_key_file: Path) -> None:
    """Make an Ed25519 checkpoint key: the private PEM into the file (mode 600), the public PEM to stdout."""
    key = CheckpointKey.generate()
    descriptor = os.open(private_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.private_pem())
    click.echo(key.public_pem(), nl=False)
