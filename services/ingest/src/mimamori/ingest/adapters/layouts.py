"""Layout specs: one YAML file per source in `adapters/specs/`, read into domain `Layout`s.

A spec names the encoding, line ends, whether a delivery is a full snapshot, the key columns, the event each
record becomes, and every column with its header (exactly as the source writes it), canonical field and type.
Adding a layout is adding a spec (and, when its records need a new event, a contract)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

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
    Text,
    ValueType,
)

SPEC_PACKAGE = "mimamori.ingest.adapters.specs"
DATE_FORMATS = ("YYYYMMDD", "YYYY-MM-DD", "YYYY/MM/DD", "wareki")
FORMATS = ("csv", "xlsx")
ENCODINGS = ("cp932", "utf-8-sig", "utf-8")
# The roles that may ever read free text (purpose case_support); a spec narrows them per source.
FREE_TEXT_ROLES = ("caseworker", "public_health_nurse", "midwife", "school_social_worker", "team_leader")


class SpecError(ValueError):
    """A spec that does not describe a layout; raised at start-up, never while loading a file."""


def _value_type(spec: dict[str, Any], where: str) -> ValueType:
    kind = spec.get("type")
    if kind == "text":
        return Text(max_length=spec.get("max_length"))
    if kind == "digits":
        return Digits(length=int(spec["length"]))
    if kind == "date":
        date_format = str(spec.get("format", "YYYYMMDD"))
        if date_format not in DATE_FORMATS:
            raise SpecError(f"{where}: date format must be one of {', '.join(DATE_FORMATS)}")
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


def _column(spec: dict[str, Any], source: str) -> Column:
    if not isinstance(spec, dict):
        raise SpecError(f"{source}: each column is a mapping")
    where = f"{source}.{spec.get('name')}"
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


def parse_spec(document: dict[str, Any]) -> Layout:
    """A layout from a parsed spec document; SpecError when something is missing or inconsistent."""
    if not isinstance(document, dict):
        raise SpecError("a spec is a YAML mapping")
    try:
        source = str(document["source"])
        file_format = str(document.get("format", "csv"))
        columns = tuple(_column(c, source) for c in document["columns"])
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
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(f"spec {document.get('source', '?')}: missing or malformed {exc}") from exc
    if layout.format not in FORMATS:
        raise SpecError(f"{layout.source}: format must be one of {', '.join(FORMATS)}")
    if layout.format == "csv":
        if layout.line_end not in ("crlf", "lf"):
            raise SpecError(f"{layout.source}: line_end must be crlf or lf")
        if layout.encoding not in ENCODINGS:
            raise SpecError(f"{layout.source}: encoding must be one of {', '.join(ENCODINGS)}")
    elif not layout.sheet:
        raise SpecError(f"{layout.source}: an xlsx layout names its `sheet`")
    if layout.snapshot not in ("full", "month", "delta"):
        raise SpecError(f"{layout.source}: snapshot must be full, month or delta")
    if layout.duplicates not in ("quarantine", "number"):
        raise SpecError(f"{layout.source}: duplicates must be quarantine or number")
    unknown_roles = set(layout.free_text_roles) - set(FREE_TEXT_ROLES)
    if unknown_roles:
        raise SpecError(f"{layout.source}: free_text_roles may name only {', '.join(FREE_TEXT_ROLES)}")
    if layout.free_text_positions and not layout.free_text_roles:
        raise SpecError(f"{layout.source}: a layout with free text names who may read it (free_text_roles)")
    if len(set(layout.persons)) != len(layout.persons):
        raise SpecError(f"{layout.source}: a person role is declared twice")
    for column in layout.columns:
        for target in (*(t for t in column.targets if t), *column.when_empty):
            parts = target.split(".")
            if parts[0] == "persons" and (len(parts) != 3 or parts[1] not in layout.persons):
                raise SpecError(f"{layout.source}.{column.name}: {target} names no declared person role")
    missing_keys = [k for k in layout.key if k not in layout.header]
    if missing_keys or not layout.key:
        raise SpecError(f"{layout.source}: key columns not in the layout: {missing_keys}")
    if len(set(layout.header)) != len(layout.header):
        raise SpecError(f"{layout.source}: duplicate column names")
    return layout


def read_spec(text: str) -> Layout:
    """A layout from a spec's YAML text."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"not YAML: {exc}") from exc
    return parse_spec(document)


def load_layouts() -> dict[str, Layout]:
    """Every layout spec shipped in the package, by source name."""
    layouts: dict[str, Layout] = {}
    for entry in sorted(resources.files(SPEC_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            layout = read_spec(entry.read_text(encoding="utf-8"))
            layouts[layout.source] = layout
    return layouts
