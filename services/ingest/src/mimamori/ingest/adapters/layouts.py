"""Layout specs: one YAML file per source in `adapters/specs/`, read into domain `Layout`s.

A spec names the encoding, line ends, whether a delivery is a full snapshot, the key columns, the event each
record becomes, and every column with its header (exactly as the source writes it), canonical field and type.
Adding a layout is adding a spec (and, when its records need a new event, a contract). Specs may also come from
installed adapter packages (entry point group `mimamori.adapters`, see `packages.py` and docs/adapters.md): a
package adds sources, or, for the municipality its spec names, replaces a reference layout."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import yaml

from mimamori.ingest.adapters.packages import AdapterPackage, installed_packages
from mimamori.ingest.domain.layout import (
    Code,
    Column,
    Date,
    DateTime,
    Digits,
    Flag,
    Integer,
    Layout,
    Month,
    RowHook,
    Text,
    ValueType,
)

SPEC_PACKAGE = "mimamori.ingest.adapters.specs"
DATE_FORMATS = ("YYYYMMDD", "YYYY-MM-DD", "YYYY/MM/DD", "wareki")
FORMATS = ("csv", "xlsx")
ENCODINGS = ("cp932", "utf-8-sig", "utf-8")
# The roles that may ever read free text (purpose case_support); a spec narrows them per source.
FREE_TEXT_ROLES = ("caseworker", "public_health_nurse", "midwife", "school_social_worker", "team_leader")
# The person roles of the canonical model (PersonReference.role in source_record.proto): identity and risk read
# them by name, so a spec may not invent one.
PERSON_ROLES = ("child", "recipient", "subject", "guardian", "head", "consulter", "parent")
SOURCE_NAME = re.compile(r"^[a-z][a-z_]*[a-z]$")  # the `<source>` of `<source>_<YYYYMM>.<ext>`
MUNICIPALITY_CODE = re.compile(r"^\d{6}$")  # 全国地方公共団体コード with its check digit
HOOK_KINDS = ("row",)
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SPEC_KEYS = frozenset(
    {
        "source", "title", "format", "extension", "encoding", "line_end", "snapshot", "key", "event", "columns",
        "sheet", "persons", "body", "constants", "duplicates", "free_text_roles", "municipality", "hooks",
    }
)  # fmt: skip
COLUMN_KEYS = frozenset({"name", "field", "to", "type", "required", "when_empty", "free_text"})
TYPE_KEYS: dict[str, frozenset[str]] = {
    "text": frozenset({"max_length"}),
    "digits": frozenset({"length"}),
    "date": frozenset({"format", "partial", "excel_serial"}),
    "datetime": frozenset(),
    "month": frozenset(),
    "integer": frozenset({"min", "max"}),
    "code": frozenset({"codes", "normalise"}),
    "flag": frozenset({"mark", "false_mark"}),
}


class SpecError(ValueError):
    """A spec that does not describe a layout; raised at start-up, never while loading a file.

    `path` locates the problem in the document (e.g. ("columns", 3, "type")) so tools can name its line."""

    def __init__(self, message: str, *, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


class AdapterConflict(SpecError):
    """Two specs (of two packages, or a package and ingest) claim the same source for the same towns."""


def _value_type(spec: dict[str, Any], where: str) -> ValueType:
    kind = spec.get("type")
    if kind == "text":
        return Text(max_length=spec.get("max_length"))
    if kind == "digits":
        return Digits(length=int(spec["length"]))
    if kind == "date":
        date_format = str(spec.get("format", "YYYYMMDD"))
        if date_format not in DATE_FORMATS:
            raise SpecError(f"{where}: date format {date_format!r} is not one of {', '.join(DATE_FORMATS)}")
        partial = bool(spec.get("partial", False))
        if partial and date_format != "YYYYMMDD":
            raise SpecError(f"{where}: partial dates exist only as YYYYMMDD (住民記録の標準)")
        return Date(partial=partial, format=date_format, excel_serial=bool(spec.get("excel_serial", False)))  # type: ignore[arg-type]
    if kind == "datetime":
        return DateTime()
    if kind == "month":
        return Month()
    if kind == "integer":
        low, high = spec.get("min"), spec.get("max")
        return Integer(minimum=None if low is None else int(low), maximum=None if high is None else int(high))
    if kind == "code":
        codes = spec.get("codes")
        if not codes:
            raise SpecError(f"{where}: a code column needs `codes`")
        normalise = {str(k): str(v) for k, v in (spec.get("normalise") or {}).items()}
        unknown = [k for k in normalise if k not in {str(c) for c in codes}]
        if unknown:
            raise SpecError(f"{where}: normalise names codes that are not in `codes`: {unknown}")
        return Code(codes=tuple(str(c) for c in codes), normalise=normalise)
    if kind == "flag":
        return Flag(true=str(spec.get("mark", "1")), false=str(spec.get("false_mark", "")))
    raise SpecError(f"{where}: unknown column type {kind!r}")


def _targets(spec: dict[str, Any], where: str) -> tuple[str, ...]:
    targets = spec.get("to", spec.get("field"))
    if isinstance(targets, str):
        targets = [targets]
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise SpecError(f"{where}: a column needs `field` or `to` (one target or a list)")
    return tuple(targets)


def parse_column(spec: dict[str, Any], source: str) -> Column:
    """One column of a spec; SpecError naming the source and column."""
    if not isinstance(spec, dict):
        raise SpecError(f"{source}: each column is a mapping")
    where = f"{source}.{spec.get('name')}"
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        raise SpecError(f"{where}: a column needs its header `name` (text)")
    allowed = COLUMN_KEYS | TYPE_KEYS.get(str(spec.get("type")), frozenset())
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown and spec.get("type") in TYPE_KEYS:
        raise SpecError(
            f"{where}: unknown key {', '.join(unknown)} (a {spec['type']} column takes {', '.join(sorted(allowed))})"
        )
    value_type = _value_type(spec, where)
    free_text = bool(spec.get("free_text", False))
    if free_text:
        # Free text never reaches an event: it has no target; ingest keeps it and serves it on request.
        if not isinstance(value_type, Text):
            raise SpecError(f"{where}: only text columns hold free text")
        if spec.get("to") or spec.get("field") or spec.get("when_empty"):
            raise SpecError(f"{where}: a free-text column fills no event field (it is never in an event)")
        targets: tuple[str, ...] = ("",)
    else:
        targets = _targets(spec, where)
    when_empty = spec.get("when_empty") or []
    return Column(
        name=str(spec["name"]),
        field=targets[0],
        also=targets[1:],
        type=value_type,
        required=bool(spec.get("required", False)),
        when_empty=tuple(str(t) for t in ([when_empty] if isinstance(when_empty, str) else when_empty)),
        free_text=free_text,
    )


def _columns(document: dict[str, Any], source: str) -> tuple[Column, ...]:
    specs = document["columns"]
    if not isinstance(specs, list) or not specs:
        raise SpecError(f"{source}: `columns` is a list of columns", path=("columns",))
    columns = []
    for index, spec in enumerate(specs):
        try:
            columns.append(parse_column(spec, source))
        except SpecError as exc:
            raise SpecError(str(exc), path=("columns", index)) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpecError(
                f"{source} column {index + 1}: missing or malformed {exc}", path=("columns", index)
            ) from None
    return tuple(columns)


def _hook(document: dict[str, Any], source: str, hooks: Mapping[str, RowHook]) -> tuple[str, RowHook | None]:
    named = document.get("hooks") or {}
    if not isinstance(named, dict) or any(k not in HOOK_KINDS for k in named):
        raise SpecError(f"{source}: `hooks` maps {', '.join(HOOK_KINDS)} to a hook of the package", path=("hooks",))
    name = named.get("row")
    if name is None:
        return "", None
    hook = hooks.get(str(name))
    if hook is None:
        raise SpecError(
            f"{source}: hook {name!r} is not one the package provides ({', '.join(sorted(hooks)) or 'none'})",
            path=("hooks", "row"),
        )
    return str(name), hook


def check_top_level(document: Mapping[str, Any]) -> list[SpecError]:
    """Top-level keys a spec does not know (a typo would otherwise be silently ignored)."""
    source = document.get("source", "?")
    return [
        SpecError(f"{source}: unknown key {key!r} (a spec takes {', '.join(sorted(SPEC_KEYS))})", path=(str(key),))
        for key in document
        if key not in SPEC_KEYS
    ]


def parse_spec(
    document: dict[str, Any], *, hooks: Mapping[str, RowHook] | None = None, origin: str = "mimamori-ingest"
) -> Layout:
    """A layout from a parsed spec document; SpecError when something is missing or inconsistent.

    `hooks`: the hooks of the package that ships the spec (its `hooks: {row: <name>}` names one)."""
    if not isinstance(document, dict):
        raise SpecError("a spec is a YAML mapping")
    unknown = check_top_level(document)
    if unknown:
        raise unknown[0]
    try:
        source = str(document["source"])
        if not SOURCE_NAME.match(source):
            raise SpecError(
                f"{source}: a source name is lower-case letters and _ (it starts file names)", path=("source",)
            )
        file_format = str(document.get("format", "csv"))
        columns = _columns(document, source)
        municipality = document.get("municipality")
        if municipality is not None and not MUNICIPALITY_CODE.match(str(municipality)):
            raise SpecError(
                f'{source}: municipality is a 6-digit 全国地方公共団体コード (quote it: "143642")',
                path=("municipality",),
            )
        hook_name, row_hook = _hook(document, source, hooks or {})
        layout = Layout(
            source=source,
            title=str(document["title"]),
            format=file_format,
            extension=str(document.get("extension", file_format)),
            encoding=str(document.get("encoding", "" if file_format == "xlsx" else "cp932")),
            line_end=str(document.get("line_end", "" if file_format == "xlsx" else "crlf")),
            snapshot=document.get("snapshot", "delta"),
            key=tuple(str(k) for k in document["key"]),
            event=str(document["event"]),
            columns=columns,
            sheet=str(document["sheet"]) if document.get("sheet") is not None else None,
            persons=tuple(str(r) for r in document.get("persons") or ()),
            body=str(document["body"]) if document.get("body") is not None else None,
            constants={str(k): str(v) for k, v in (document.get("constants") or {}).items()},
            duplicates=document.get("duplicates", "quarantine"),
            free_text_roles=tuple(str(r) for r in document.get("free_text_roles") or ()),
            municipality=None if municipality is None else str(municipality),
            origin=origin,
            row_hook=row_hook,
            row_hook_name=hook_name,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(
            f"spec {document.get('source', '?')}: missing or malformed {exc}",
            path=(str(exc.args[0]),) if isinstance(exc, KeyError) and exc.args else (),
        ) from exc
    if layout.format not in FORMATS:
        raise SpecError(f"{layout.source}: format must be one of {', '.join(FORMATS)}", path=("format",))
    if layout.format == "csv":
        if layout.line_end not in ("crlf", "lf"):
            raise SpecError(f"{layout.source}: line_end must be crlf or lf", path=("line_end",))
        if layout.encoding not in ENCODINGS:
            raise SpecError(f"{layout.source}: encoding must be one of {', '.join(ENCODINGS)}", path=("encoding",))
    elif not layout.sheet:
        raise SpecError(f"{layout.source}: an xlsx layout names its `sheet`", path=("format",))
    if layout.snapshot not in ("full", "month", "delta"):
        raise SpecError(f"{layout.source}: snapshot must be full, month or delta", path=("snapshot",))
    if layout.duplicates not in ("quarantine", "number"):
        raise SpecError(f"{layout.source}: duplicates must be quarantine or number", path=("duplicates",))
    unknown_roles = set(layout.free_text_roles) - set(FREE_TEXT_ROLES)
    if unknown_roles:
        raise SpecError(
            f"{layout.source}: free_text_roles may name only {', '.join(FREE_TEXT_ROLES)}", path=("free_text_roles",)
        )
    if layout.free_text_positions and not layout.free_text_roles:
        raise SpecError(
            f"{layout.source}: a layout with free text names who may read it (free_text_roles)", path=("columns",)
        )
    invented = [r for r in layout.persons if r not in PERSON_ROLES]
    if invented:
        raise SpecError(
            f"{layout.source}: person roles {invented} are not in the canonical model ({', '.join(PERSON_ROLES)})",
            path=("persons",),
        )
    if len(set(layout.persons)) != len(layout.persons):
        raise SpecError(f"{layout.source}: a person role is declared twice", path=("persons",))
    for column in layout.columns:
        for target in (*(t for t in column.targets if t), *column.when_empty):
            parts = target.split(".")
            if parts[0] == "persons" and (len(parts) != 3 or parts[1] not in layout.persons):
                raise SpecError(
                    f"{layout.source}.{column.name}: {target} names no declared person role",
                    path=("columns", layout.columns.index(column)),
                )
    missing_keys = [k for k in layout.key if k not in layout.header]
    if missing_keys or not layout.key:
        raise SpecError(f"{layout.source}: key columns not in the layout: {missing_keys}", path=("key",))
    if len(set(layout.header)) != len(layout.header):
        raise SpecError(f"{layout.source}: duplicate column names", path=("columns",))
    return layout


def read_spec(text: str, *, hooks: Mapping[str, RowHook] | None = None, origin: str = "mimamori-ingest") -> Layout:
    """A layout from a spec's YAML text."""
    try:
        document = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise SpecError(f"not YAML: {exc}") from exc
    return parse_spec(document, hooks=hooks, origin=origin)


def builtin_layouts() -> dict[str, Layout]:
    """The reference layouts shipped with ingest (開成町), by source name."""
    layouts: dict[str, Layout] = {}
    for entry in sorted(resources.files(SPEC_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            layout = read_spec(entry.read_text(encoding="utf-8"))
            layouts[layout.source] = layout
    return layouts


def package_layouts(package: AdapterPackage) -> list[Layout]:
    """Every spec of an adapter package, read with the package's hooks; SpecError names the package and file."""
    layouts = []
    for entry in package.spec_files():
        try:
            layouts.append(read_spec(entry.read_text(encoding="utf-8"), hooks=package.hooks, origin=package.name))
        except SpecError as exc:
            raise SpecError(f"{package.name} {entry.name}: {exc}", path=exc.path) from None
    return layouts


def merge_layouts(
    builtin: Mapping[str, Layout], packaged: Sequence[Layout], *, municipality: str | None
) -> dict[str, Layout]:
    """The layouts in force for a town: a package's spec for `municipality` replaces the reference layout of its
    source, an unscoped one adds a source; specs for other towns are left out. Two claims on one source for the
    same towns are an AdapterConflict naming both packages."""
    claims: dict[tuple[str, str | None], Layout] = {}
    for layout in packaged:
        claim = (layout.source, layout.municipality)
        earlier = claims.get(claim)
        if earlier is not None:
            raise AdapterConflict(
                f"source {layout.source!r}{_for(layout.municipality)} is defined by both {earlier.origin} and "
                f"{layout.origin}: uninstall one, or scope each spec to its town (municipality)"
            )
        if layout.municipality is None and layout.source in builtin:
            raise AdapterConflict(
                f"{layout.origin} redefines the reference layout {layout.source!r} for every town: name the town "
                "it is for (municipality) or choose another source name"
            )
        claims[claim] = layout
    layouts = dict(builtin)
    # Unscoped specs first: the town's own spec of a source beats an unscoped package spec of it.
    for (source, town), layout in sorted(claims.items(), key=lambda c: c[0][1] is not None):
        if town is None or town == municipality:
            layouts[source] = layout
    return layouts


def _for(municipality: str | None) -> str:
    return f" for municipality {municipality}" if municipality is not None else ""


def load_layouts(
    municipality: str | None = None, *, packages: Sequence[AdapterPackage] | None = None
) -> dict[str, Layout]:
    """Every layout in force, by source: ingest's reference specs and those of the installed adapter packages
    (or of `packages`), for `municipality` (None: only specs that name no town)."""
    found = installed_packages() if packages is None else packages
    packaged = [layout for package in found for layout in package_layouts(package)]
    return merge_layouts(builtin_layouts(), packaged, municipality=municipality)
