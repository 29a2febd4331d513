"""The conformance kit a town runs against its adapter package (`mimamori-adapters-<town>`).

    # tests/test_conformance.py of the package
    import pytest
    from mimamori.ingest import conformance
    from mimamori_adapters_yamakita import adapters

    @pytest.mark.parametrize("check", conformance.CHECKS)
    def test_conformance(check: str) -> None:
        conformance.assert_check(check, adapters())

Checks: every spec validates (`specs_validate`); roles, bodies and events exist in the canonical model and each
declared person can be named (`canonical_model`); each spec has a sample and every sample parses with zero
structural errors into at least one record (`samples_parse`); sample rows round-trip: the event carries each
value as given, survives serialisation, and is rebuilt identically from the stored record, as a removal is
(`round_trip`); free text never reaches an event (`free_text_never_in_events`)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.abc import Traversable
from io import BytesIO
from typing import Any

from google.protobuf.message import Message

from mimamori.contracts import MESSAGE_TYPES
from mimamori.events.ingest.v1.source_record_pb2 import SourceRecordReceived
from mimamori.ingest.adapters.events import SOURCE_RECORD_EVENT, Provenance, mapper_for
from mimamori.ingest.adapters.layouts import PERSON_ROLES, builtin_layouts, package_layouts
from mimamori.ingest.adapters.packages import AdapterPackage
from mimamori.ingest.adapters.spec_check import check_spec_text
from mimamori.ingest.domain.layout import Code, Layout
from mimamori.ingest.domain.records import Change
from mimamori.ingest.service_layer.trial import Trial, try_file

SAMPLE_NAME = re.compile(r"^(?P<source>[a-z][a-z_]*[a-z])_(?P<month>\d{6})\.(?P<ext>[A-Za-z0-9]+)$")
# The person fields that can identify someone: a reference with none of them can never be resolved.
IDENTIFYING = ("atena_no", "name", "name_kana", "birth_date", "student_no")
MARKER = "自由記述の検査用マーカー7f3a"  # put into free-text cells: it must never appear in an event
DEFAULT_TOWN = "000000"


@dataclass(frozen=True, slots=True)
class Finding:
    """One way a package does not conform: which check, where (spec or sample, line or row), what."""

    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.message}"


def _layouts(package: AdapterPackage) -> list[Layout]:
    return package_layouts(package)


def _town(layout: Layout) -> str:
    return layout.municipality or DEFAULT_TOWN


def check_specs_validate(package: AdapterPackage) -> list[Finding]:
    """Every spec file reads without an error (YAML, keys, types, the event contract), with the package's hooks."""
    findings = []
    for entry in package.spec_files():
        _, issues = check_spec_text(entry.read_text(encoding="utf-8"), hooks=package.hooks, origin=package.name)
        findings += [
            Finding("specs_validate", f"{entry.name}:{i.line}", i.message) for i in issues if i.severity == "error"
        ]
    if not package.spec_files():
        findings.append(Finding("specs_validate", str(package.specs), "the package ships no spec (*.yaml)"))
    return findings


def check_canonical_model(package: AdapterPackage) -> list[Finding]:
    """Events are registered contracts, bodies are kinds of SourceRecordReceived, roles are the model's, and every
    declared person is named by at least one identifying column."""
    findings = []
    bodies = {f.name for f in SourceRecordReceived.DESCRIPTOR.oneofs_by_name["body"].fields}
    for layout in _layouts(package):
        where = f"{layout.source}.yaml"
        if layout.event not in MESSAGE_TYPES:
            findings.append(Finding("canonical_model", where, f"event {layout.event} is not a registered contract"))
        if layout.event != SOURCE_RECORD_EVENT:
            continue
        if layout.body not in bodies:
            findings.append(Finding("canonical_model", where, f"body {layout.body} is not one of {sorted(bodies)}"))
        for role in layout.persons:
            if role not in PERSON_ROLES:
                findings.append(Finding("canonical_model", where, f"person role {role} is not in {PERSON_ROLES}"))
            fills = {t.split(".")[2] for c in layout.columns for t in c.targets if t.startswith(f"persons.{role}.")}
            if not fills & set(IDENTIFYING):
                findings.append(
                    Finding("canonical_model", where, f"no column identifies the {role} ({', '.join(IDENTIFYING)})")
                )
    return findings


def _samples(package: AdapterPackage) -> tuple[dict[str, list[Traversable]], list[Finding]]:
    by_source: dict[str, list[Traversable]] = {}
    findings = []
    sources = {layout.source for layout in _layouts(package)}
    for sample in package.sample_files():
        match = SAMPLE_NAME.match(sample.name)
        if match is None or match["source"] not in sources:
            findings.append(
                Finding("samples_parse", sample.name, "a sample is named <source>_<YYYYMM>.<ext> after a spec")
            )
            continue
        by_source.setdefault(match["source"], []).append(sample)
    return by_source, findings


@functools.cache
def _reference_layouts() -> dict[str, Layout]:
    return builtin_layouts()


def _trial(layout: Layout, sample: Traversable) -> Trial:
    data = sample.read_bytes()
    layouts = {**_reference_layouts(), layout.source: layout}
    return try_file(
        lambda: BytesIO(data), file_name=sample.name, layout=layout, layouts=layouts, municipality=_town(layout)
    )


def check_samples_parse(package: AdapterPackage) -> list[Finding]:
    """Each spec has a sample; each sample parses with zero structural errors into at least one record."""
    by_source, findings = _samples(package)
    for layout in _layouts(package):
        samples = by_source.get(layout.source, [])
        if not samples:
            findings.append(Finding("samples_parse", f"{layout.source}.yaml", "no sample file for this spec"))
        for sample in samples:
            trial = _trial(layout, sample)
            if trial.error is not None:
                findings.append(Finding("samples_parse", sample.name, f"{trial.error.code}: {trial.error.message}"))
            elif not trial.records:
                findings.append(Finding("samples_parse", sample.name, "no row of the sample becomes a record"))
    return findings


def _field(event: Message, target: str, layout: Layout) -> Any:
    parts = target.split(".")
    if parts[0] == "body":
        return getattr(getattr(event, str(layout.body)), parts[1])
    refs = [r for r in getattr(event, "persons", ()) if r.role == parts[1]]
    return getattr(refs[0], parts[2]) if refs else None


def check_round_trip(package: AdapterPackage) -> list[Finding]:
    """Every value of a sample record is in its event as given (codes as normalised), the event survives
    serialisation, and the event rebuilt from the stored record (as a removal rebuilds it) is the same."""
    by_source, findings = _samples(package)
    for layout in _layouts(package):
        mapper = mapper_for(layout)
        for sample in by_source.get(layout.source, []):
            trial = _trial(layout, sample)
            for record, event in zip(trial.records, trial.events, strict=True):
                where = f"{sample.name} row {record.row}"
                again = type(event)()
                again.ParseFromString(event.SerializeToString())
                if again != event:
                    findings.append(Finding("round_trip", where, "the event changes when serialised and read back"))
                stored = json.loads(record.document)
                rebuilt = mapper.event(
                    values=stored,
                    record_key=record.record_key,
                    provenance=_provenance_of(event),
                    row=record.row,
                    change=Change.ADDED,
                )
                if layout.event == SOURCE_RECORD_EVENT:
                    rebuilt.has_free_text = event.has_free_text  # type: ignore[attr-defined]
                if rebuilt != event:
                    findings.append(Finding("round_trip", where, "the stored record does not rebuild the same event"))
                findings += _values_in_event(layout, record.values, event, where)
    return findings


def _provenance_of(event: Message) -> Provenance:
    ref = event.provenance  # type: ignore[attr-defined]
    return Provenance(
        source=ref.source,
        municipality=ref.municipality_code,
        file_name=ref.file_name,
        file_sha256=ref.file_sha256,
        load_run_id=ref.load_run_id,
        month=getattr(event, "month", ""),
    )


def _values_in_event(layout: Layout, values: tuple[str, ...], event: Message, where: str) -> list[Finding]:
    findings = []
    for column, raw in zip(layout.columns, values, strict=True):
        if column.free_text or not raw:
            continue
        for target in column.targets:
            if layout.event == SOURCE_RECORD_EVENT:
                found = _field(event, target, layout)
            else:
                found = getattr(event, target, None)
            expected = column.type.parse(raw) if isinstance(column.type, Code) and column.type.normalise else raw
            if hasattr(found, "raw"):
                found = found.raw
            if isinstance(found, bool | int) and not isinstance(found, str):
                continue  # flags and numbers are checked by type; their text form is not kept
            if found != expected:
                findings.append(Finding("round_trip", where, f"{column.name} → {target} is not the value as given"))
    return findings


def check_free_text_never_in_events(package: AdapterPackage) -> list[Finding]:
    """No free-text value (nor a marker written into every free-text cell) reaches an event; has_free_text says
    there is some; no column that looks like free text (備考, 概要 … unbounded) is mapped into an event."""
    by_source, findings = _samples(package)
    for entry in package.spec_files():
        _, issues = check_spec_text(entry.read_text(encoding="utf-8"), hooks=package.hooks, origin=package.name)
        findings += [
            Finding("free_text_never_in_events", f"{entry.name}:{i.line}", i.message)
            for i in issues
            if i.severity == "warning" and "free text" in i.message
        ]
    for layout in _layouts(package):
        for sample in by_source.get(layout.source, []):
            trial = _trial(layout, sample)
            for record, event in zip(trial.records, trial.events, strict=True):
                payload = event.SerializeToString()
                for position in layout.free_text_positions:
                    text = record.values[position]
                    if len(text) >= 2 and text.encode() in payload:
                        findings.append(
                            Finding(
                                "free_text_never_in_events",
                                f"{sample.name} row {record.row}",
                                f"{layout.columns[position].name} is in the event",
                            )
                        )
            if layout.free_text_positions and trial.records:
                findings += _marker_check(layout, trial.records[0].values, sample.name)
    return findings


def _marker_check(layout: Layout, values: tuple[str, ...], sample: str) -> list[Finding]:
    marked = list(values)
    for position in layout.free_text_positions:
        marked[position] = MARKER
    mapper = mapper_for(layout)
    event = mapper.event(
        values=marked,
        record_key="marker",
        provenance=Provenance(layout.source, _town(layout), sample, "", "conformance"),
        row=1,
        change=Change.ADDED,
    )
    findings = []
    if MARKER.encode() in event.SerializeToString():
        findings.append(Finding("free_text_never_in_events", sample, "a free-text cell reached the event"))
    if layout.event == SOURCE_RECORD_EVENT and not event.has_free_text:  # type: ignore[attr-defined]
        findings.append(Finding("free_text_never_in_events", sample, "has_free_text is not set for free text"))
    return findings


CHECKS: dict[str, Callable[[AdapterPackage], list[Finding]]] = {
    "specs_validate": check_specs_validate,
    "canonical_model": check_canonical_model,
    "samples_parse": check_samples_parse,
    "round_trip": check_round_trip,
    "free_text_never_in_events": check_free_text_never_in_events,
}


def run_checks(package: AdapterPackage) -> list[Finding]:
    """Every check's findings; empty when the package conforms."""
    findings = check_specs_validate(package)
    if findings:
        return findings  # the other checks need specs that read
    for name, check in CHECKS.items():
        if name != "specs_validate":
            findings += check(package)
    return findings


def assert_check(name: str, package: AdapterPackage) -> None:
    """Run one check (pytest); AssertionError listing every finding."""
    findings = CHECKS[name](package)
    assert not findings, "\n".join(str(f) for f in findings)


def assert_conformant(package: AdapterPackage) -> None:
    """Run every check (pytest); AssertionError listing every finding."""
    findings = run_checks(package)
    assert not findings, "\n".join(str(f) for f in findings)
