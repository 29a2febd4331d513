"""`mimamori adapters validate SPEC` and `mimamori adapters try SPEC FILE`: the short loop of writing a spec.

Neither writes anything: no database, no kept file, no event; `try` prints what a load would emit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import click
from google.protobuf.json_format import MessageToDict

from mimamori.ingest.adapters.layouts import load_layouts
from mimamori.ingest.adapters.packages import AdapterPackage, PackageError, installed_packages
from mimamori.ingest.adapters.spec_check import check_spec_text
from mimamori.ingest.domain.layout import Layout, RowHook
from mimamori.ingest.service_layer.trial import try_file
from mimamori.kit.config import PlatformSettings


def _package_for(spec: Path, name: str | None) -> AdapterPackage | None:
    """The installed package whose hooks the spec may name: `--package`, else the one that ships this file."""
    try:
        packages = installed_packages()
    except PackageError as exc:
        raise click.ClickException(str(exc)) from None
    if name is not None:
        for package in packages:
            if name in (package.name, package.name.split(" ")[0]):
                return package
        raise click.ClickException(f"no installed adapter package {name!r} ({', '.join(p.name for p in packages)})")
    here = spec.resolve().parent
    for package in packages:
        if Path(str(package.specs)).resolve() == here:
            return package
    return None


def _validated(spec: Path, package_name: str | None) -> tuple[Layout | None, bool]:
    package = _package_for(spec, package_name)
    hooks: Mapping[str, RowHook] = package.hooks if package is not None else {}
    layout, issues = check_spec_text(
        spec.read_text(encoding="utf-8"), hooks=hooks, origin=package.name if package else spec.name
    )
    for issue in issues:
        click.echo(issue.located(str(spec)), err=True)
    return layout, any(i.severity == "error" for i in issues)


@click.group(name="adapters")
def adapters() -> None:
    """Layout specs: check one, try one on a sample file, list those in force."""


@adapters.command("validate")
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--package", "package_name", default=None, help="the installed adapter package whose hooks to use")
def validate(specs: tuple[Path, ...], package_name: str | None) -> None:
    """Check SPEC files: YAML, keys, column types, the fit to the event contract; each problem with its line."""
    failed = False
    for spec in specs:
        layout, errors = _validated(spec, package_name)
        failed = failed or errors
        if layout is not None and not errors:
            town = f", municipality {layout.municipality}" if layout.municipality else ""
            click.echo(f"{spec}: ok: {layout.source} ({layout.title}) {len(layout.columns)} columns{town}")
    if failed:
        raise SystemExit(1)


@adapters.command("try")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--package", "package_name", default=None, help="the installed adapter package whose hooks to use")
@click.option("--limit", type=int, default=None, help="print at most this many records")
def try_(spec: Path, file: Path, package_name: str | None, limit: int | None) -> None:
    """Parse FILE with SPEC and print every record that would be emitted (one JSON line each), every quarantined
    row with its reason, or the structural error that rejects the file. Nothing is written."""
    layout, errors = _validated(spec, package_name)
    if layout is None or errors:
        raise SystemExit(1)
    municipality = layout.municipality or PlatformSettings().municipality_code
    # Other layouts in force for that town, so a file of another layout is named as such.
    layouts = {**load_layouts(municipality), layout.source: layout}
    trial = try_file(
        lambda: file.open("rb"), file_name=file.name, layout=layout, layouts=layouts, municipality=municipality
    )
    if trial.error is not None:
        click.echo(f"rejected ({trial.error.code}): {trial.error.message}")
        raise SystemExit(1)
    shown = trial.events if limit is None else trial.events[:limit]
    for record, event in zip(trial.records, shown, strict=False):
        line = {"row": record.row, "event": layout.event.rsplit(".", 1)[-1], **MessageToDict(event)}
        click.echo(json.dumps(line, ensure_ascii=False))
    for problem in trial.problems:
        column = problem["column"] or "-"
        click.echo(
            f"quarantine row={problem['row']} column={column} code={problem['reason_code']}: {problem['reason']}"
        )
    click.echo(
        f"{file.name}: rows={trial.total} records={len(trial.records)} quarantined={trial.quarantined} "
        f"(nothing was written)"
    )


@adapters.command("list")
@click.option("--municipality", default=None, help="the town (default: this deployment's MIMAMORI_MUNICIPALITY_CODE)")
def list_(municipality: str | None) -> None:
    """The layouts in force for a town, with the package that ships each."""
    town = municipality or PlatformSettings().municipality_code
    for source, layout in sorted(load_layouts(town).items()):
        scope = f" (municipality {layout.municipality})" if layout.municipality else ""
        hook = f" hook={layout.row_hook_name}" if layout.row_hook_name else ""
        click.echo(f"{source}\t{layout.title}\t{layout.origin}{scope}{hook}")
