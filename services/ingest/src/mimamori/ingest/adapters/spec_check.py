"""Checking a spec the way a town writes it: every problem at once, each with the line it is on.

The service itself reads specs with `layouts.read_spec` (first problem stops start-up); this is for
`mimamori adapters validate` and the conformance kit: YAML syntax, repeated keys, unknown keys, each column on
its own, the layout as a whole, the fit to the event contract, and warnings for what is legal but risky."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from mimamori.ingest.adapters.events import SOURCE_RECORD_EVENT, MappingError, mapper_for
from mimamori.ingest.adapters.layouts import SAFE_LOADER, SpecError, check_top_level, parse_column, parse_spec
from mimamori.ingest.domain.layout import Date, Layout, RowHook, Text

# Column names that usually hold free text (概要, 主訴, 備考, 相談メモ, 理由 …): those never go into an event.
FREE_TEXT_WORDS = ("概要", "主訴", "備考", "メモ", "理由", "所見", "経過", "記事", "特記", "内容詳細")
SHORT_TEXT = 100  # a text column allowed longer than this, with a free-text word in its name, is free text


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem of a spec: how bad, where (path and line), what."""

    severity: Literal["error", "warning"]
    message: str
    path: tuple[str | int, ...] = ()
    line: int | None = None

    def located(self, spec_name: str) -> str:
        """`jidou_fuyou.yaml:12: error: …` (columns[3].type named when there is no line)."""
        where = f"{spec_name}:{self.line}" if self.line is not None else spec_name
        path = _path_text(self.path)
        return f"{where}: {self.severity}: {self.message}" + (f" [{path}]" if path else "")


def _path_text(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(root: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the deepest node the path reaches."""
    if root is None:
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    line = key.start_mark.line + 1
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _repeated_keys(node: yaml.Node, path: tuple[str | int, ...] = ()) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                issues.append(
                    SpecIssue("error", f"key {name!r} appears twice (YAML keeps only the last)", (*path, name),
                              key.start_mark.line + 1)
                )  # fmt: skip
            seen.add(name)
            issues += _repeated_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            issues += _repeated_keys(item, (*path, index))
    return issues


def _mapping_path(layout: Layout, message: str) -> tuple[str | int, ...]:
    for index, column in enumerate(layout.columns):
        if re.search(rf"{re.escape(layout.source)}\.{re.escape(column.name)}[: →]", message):
            return ("columns", index)
    if "body" in message:
        return ("body",)
    if "constant" in message:
        return ("constants",)
    if "person" in message:
        return ("persons",)
    return ("event",)


def _warnings(layout: Layout) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for index, column in enumerate(layout.columns):
        where = ("columns", index)
        long_text = isinstance(column.type, Text) and (column.type.max_length or SHORT_TEXT + 1) > SHORT_TEXT
        if not column.free_text and long_text and any(w in column.name for w in FREE_TEXT_WORDS):
            issues.append(
                SpecIssue("warning", f"{column.name} looks like free text, which must never be in an event: "
                          "mark it `free_text: true` (or bound it with a short max_length if it is a category)", where)
            )  # fmt: skip
        if (
            layout.event != SOURCE_RECORD_EVENT
            and isinstance(column.type, Date)
            and (column.type.format != "YYYYMMDD" or column.type.excel_serial)
        ):
            issues.append(
                SpecIssue("warning", f"{column.name}: {layout.event} fills the parsed date only from YYYYMMDD; "
                          "other formats reach it as given (raw) without iso", where)
            )  # fmt: skip
    return issues


def check_spec_text(
    text: str, *, hooks: Mapping[str, RowHook] | None = None, origin: str = "spec"
) -> tuple[Layout | None, list[SpecIssue]]:
    """The layout (None when it has errors) and every issue found, errors first, each with its line."""
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return None, [SpecIssue("error", f"not YAML: {exc.problem or exc}", (), line)]
    except yaml.YAMLError as exc:
        return None, [SpecIssue("error", f"not YAML: {exc}")]
    document: Any = yaml.load(text, Loader=SAFE_LOADER)
    if not isinstance(document, dict):
        return None, [SpecIssue("error", "a spec is a YAML mapping (source, title, columns …)", (), 1)]
    errors = _repeated_keys(root) if root is not None else []
    errors += [SpecIssue("error", str(e), e.path) for e in check_top_level(document)]
    columns = document.get("columns")
    if isinstance(columns, list):
        for index, spec in enumerate(columns):
            try:
                parse_column(spec, str(document.get("source", "?")))
            except SpecError as exc:
                errors.append(SpecIssue("error", str(exc), ("columns", index)))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                errors.append(SpecIssue("error", f"column {index + 1}: missing or malformed {exc}", ("columns", index)))
    layout: Layout | None = None
    if not errors:
        try:
            layout = parse_spec(document, hooks=hooks, origin=origin)
        except SpecError as exc:
            errors.append(SpecIssue("error", str(exc), exc.path))
    if layout is not None:
        try:
            mapper_for(layout)
        except MappingError as exc:
            errors.append(SpecIssue("error", str(exc), _mapping_path(layout, str(exc))))
            layout = None
    warnings = _warnings(layout) if layout is not None else []
    located = [SpecIssue(i.severity, i.message, i.path, i.line or _line(root, i.path)) for i in (*errors, *warnings)]
    return layout, sorted(located, key=lambda i: (i.severity != "error", i.line or 0))
