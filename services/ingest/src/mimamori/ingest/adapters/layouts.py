"""Layout specs: one YAML file per source in `adapters/specs/`, read into domain `Layout`s.

A spec names the encoding, line ends, whether a delivery is a full snapshot, the key columns, the event each
record becomes, and every column with its header (exactly as the source writes it), canonical field and type.
Adding a layout is adding a spec (and, when its records need a new event, a contract)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from mimamori.ingest.domain.layout import Code, Column, Date, Digits, Flag, Layout, Text, ValueType

SPEC_PACKAGE = "mimamori.ingest.adapters.specs"


class SpecError(ValueError):
    """A spec that does not describe a layout; raised at start-up, never while loading a file."""


def _value_type(spec: dict[str, Any], where: str) -> ValueType:
    kind = spec.get("type")
    if kind == "text":
        return Text(max_length=spec.get("max_length"))
    if kind == "digits":
        return Digits(length=int(spec["length"]))
    if kind == "date":
        if spec.get("format", "YYYYMMDD") != "YYYYMMDD":
            raise SpecError(f"{where}: only YYYYMMDD dates are supported so far")
        return Date(partial=bool(spec.get("partial", False)))
    if kind == "code":
        codes = spec.get("codes")
        if not codes:
            raise SpecError(f"{where}: a code column needs `codes`")
        return Code(codes=tuple(str(c) for c in codes))
    if kind == "flag":
        return Flag(true=str(spec.get("mark", "1")))
    raise SpecError(f"{where}: unknown column type {kind!r}")


def parse_spec(document: dict[str, Any]) -> Layout:
    """A layout from a parsed spec document; SpecError when something is missing or inconsistent."""
    try:
        source = str(document["source"])
        columns = tuple(
            Column(
                name=str(c["name"]),
                field=str(c["field"]),
                type=_value_type(c, f"{source}.{c.get('name')}"),
                required=bool(c.get("required", False)),
            )
            for c in document["columns"]
        )
        layout = Layout(
            source=source,
            title=str(document["title"]),
            format=str(document.get("format", "csv")),
            extension=str(document.get("extension", "csv")),
            encoding=str(document["encoding"]),
            line_end=str(document.get("line_end", "crlf")),
            snapshot=document.get("snapshot", "delta"),
            key=tuple(str(k) for k in document["key"]),
            event=str(document["event"]),
            columns=columns,
        )
    except (KeyError, TypeError) as exc:
        raise SpecError(f"spec {document.get('source', '?')}: missing or malformed {exc}") from exc
    if layout.format != "csv":
        raise SpecError(f"{layout.source}: only csv layouts are supported so far")
    if layout.line_end not in ("crlf", "lf"):
        raise SpecError(f"{layout.source}: line_end must be crlf or lf")
    if layout.snapshot not in ("full", "delta"):
        raise SpecError(f"{layout.source}: snapshot must be full or delta")
    missing_keys = [k for k in layout.key if k not in layout.header]
    if missing_keys or not layout.key:
        raise SpecError(f"{layout.source}: key columns not in the layout: {missing_keys}")
    if len(set(layout.header)) != len(layout.header):
        raise SpecError(f"{layout.source}: duplicate column names")
    return layout


def load_layouts() -> dict[str, Layout]:
    """Every layout spec shipped in the package, by source name."""
    layouts: dict[str, Layout] = {}
    for entry in sorted(resources.files(SPEC_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            layout = parse_spec(yaml.safe_load(entry.read_text(encoding="utf-8")))
            layouts[layout.source] = layout
    return layouts
