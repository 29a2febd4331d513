"""The adapter SDK: specs from packages, scoping and conflicts, hooks, `mimamori adapters validate/try`, and the
conformance kit catching what it must."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from mimamori.ingest import conformance
from mimamori.ingest.adapters.layouts import AdapterConflict, SpecError, builtin_layouts, load_layouts
from mimamori.ingest.adapters.packages import AdapterPackage
from mimamori.ingest.adapters.spec_check import check_spec_text
from mimamori.ingest.domain.delivery import DeliveredFileName, FileNameRejected
from mimamori.ingest.entrypoints.adapters_cli import adapters as adapters_cli
from mimamori.ingest.service_layer import handlers
from mimamori.ingest.service_layer.trial import try_file

SPEC = """\
source: {source}
title: 子ども食堂 利用
{municipality}format: csv
encoding: utf-8
line_end: lf
snapshot: full
key: [利用ID]
event: mimamori.events.ingest.v1.SourceRecordReceived
persons: [child]
body: support_centre_visit
{hooks}columns:
  - {{name: 利用ID, to: body.activity, type: text, max_length: 20, required: true}}
  - {{name: 宛名番号, to: persons.child.atena_no, type: digits, length: 10, required: true}}
  - {{name: 利用日, to: body.date, type: date, format: YYYY-MM-DD, required: true}}
  - {{name: 様子, type: text, max_length: 500, free_text: true}}
free_text_roles: [caseworker]
"""
SAMPLE = "利用ID,宛名番号,利用日,様子\nA1,0000000018,2026-04-03,元気に食べていた\nA2,0000000026,2026-04-31,\n"


def package(tmp_path: Path, name: str, *, source: str = "kodomo_shokudo", municipality: str | None = None,
            hooks: dict[str, object] | None = None, hook: str | None = None, sample: str | None = SAMPLE
            ) -> AdapterPackage:  # fmt: skip
    """A package in a directory: one spec, maybe a sample."""
    root = tmp_path / name
    (root / "specs").mkdir(parents=True)
    (root / "samples").mkdir()
    text = SPEC.format(
        source=source,
        municipality=f'municipality: "{municipality}"\n' if municipality else "",
        hooks=f"hooks: {{row: {hook}}}\n" if hook else "",
    )
    (root / "specs" / f"{source}.yaml").write_text(text, encoding="utf-8")
    if sample is not None:
        (root / "samples" / f"{source}_202604.csv").write_text(sample, encoding="utf-8")
    return AdapterPackage(name=name, specs=root / "specs", hooks=hooks or {}, samples=root / "samples")  # type: ignore[arg-type]


def test_a_package_adds_a_source_and_its_files_are_accepted_by_name(tmp_path: Path) -> None:
    layouts = load_layouts("143669", packages=[package(tmp_path, "mimamori-adapters-a")])
    assert layouts["kodomo_shokudo"].origin == "mimamori-adapters-a" and len(layouts) == 20
    with pytest.raises(FileNameRejected) as refused:
        handlers.layout_for("kodomo_shokudo_202604.csv", builtin_layouts())
    assert refused.value.code == "unknown_layout"
    name, layout = handlers.layout_for("kodomo_shokudo_202604.csv", layouts)
    assert (name.source, layout.source) == ("kodomo_shokudo", "kodomo_shokudo")
    assert DeliveredFileName.parse("jumin_202604.csv").source == "jumin"


def test_two_packages_defining_one_source_are_a_clear_conflict(tmp_path: Path) -> None:
    with pytest.raises(AdapterConflict, match=r"kodomo_shokudo.*mimamori-adapters-a.*mimamori-adapters-b"):
        load_layouts(packages=[package(tmp_path, "mimamori-adapters-a"), package(tmp_path, "mimamori-adapters-b")])


def test_an_unscoped_package_may_not_replace_a_reference_layout(tmp_path: Path) -> None:
    with pytest.raises(AdapterConflict, match="jidou_fuyou"):
        load_layouts(packages=[package(tmp_path, "p", source="jidou_fuyou")])


def test_a_spec_scoped_to_a_town_applies_only_there(tmp_path: Path) -> None:
    packages = [
        package(tmp_path, "yamakita", source="jidou_fuyou", municipality="143642"),
        package(tmp_path, "oi", source="jidou_fuyou", municipality="143634"),
    ]
    assert load_layouts("143642", packages=packages)["jidou_fuyou"].origin == "yamakita"
    assert load_layouts("143634", packages=packages)["jidou_fuyou"].origin == "oi"
    assert load_layouts("143669", packages=packages)["jidou_fuyou"].origin == "mimamori-ingest"
    with pytest.raises(AdapterConflict, match="municipality 143642"):
        load_layouts("143642", packages=[*packages, package(tmp_path, "other", source="jidou_fuyou",
                                                          municipality="143642")])  # fmt: skip


def test_a_spec_naming_a_hook_the_package_lacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="hook 'upper' is not one the package provides"):
        load_layouts(packages=[package(tmp_path, "p", hook="upper")])


def test_a_row_hook_transforms_rows_and_a_failing_hook_rejects_the_file(tmp_path: Path) -> None:
    def shout(values: list[str]) -> list[str]:
        if values[0] == "A2":
            raise ValueError("secret value A2")
        return [values[0].lower(), *values[1:]]

    layout = load_layouts(packages=[package(tmp_path, "p", hook="shout", hooks={"shout": shout})])["kodomo_shokudo"]
    data = SAMPLE.replace("A2", "B2").encode()
    trial = try_file(lambda: io.BytesIO(data), file_name="kodomo_shokudo_202604.csv", layout=layout,
                     layouts={"kodomo_shokudo": layout}, municipality="143669")  # fmt: skip
    assert trial.error is None and trial.events[0].support_centre_visit.activity == "a1"  # type: ignore[attr-defined]
    failing = try_file(lambda: io.BytesIO(SAMPLE.encode()), file_name="kodomo_shokudo_202604.csv", layout=layout,
                       layouts={"kodomo_shokudo": layout}, municipality="143669")  # fmt: skip
    assert failing.error is not None and failing.error.code == "hook_failed" and failing.error.row == 2
    assert "A2" not in failing.error.message and "kodomo_shokudo_202604.csv" in failing.error.message
    assert not failing.records and not failing.events


def test_validate_names_every_problem_with_its_line() -> None:
    text = SPEC.format(source="kodomo_shokudo", municipality="", hooks="")
    text = text.replace("persons: [child]", "persons: [child]\npersons_extra: 1")
    text = text.replace("type: digits, length: 10", "type: digits, lenght: 10")
    text = text.replace("format: YYYY-MM-DD", "format: DD/MM/YYYY")
    layout, issues = check_spec_text(text)
    assert layout is None
    located = {(i.line, i.path[0]) for i in issues}
    assert (10, "persons_extra") in located  # the unknown top-level key, on its line
    assert (14, "columns") in located and (15, "columns") in located  # `lenght`, the date format
    assert any("lenght" in i.message for i in issues) and any("'DD/MM/YYYY'" in i.message for i in issues)


def test_validate_checks_the_fit_to_the_event_and_warns_of_free_text() -> None:
    text = SPEC.format(source="kodomo_shokudo", municipality="", hooks="")
    wrong = text.replace("to: body.date", "to: body.dat")
    _, issues = check_spec_text(wrong)
    assert [(i.severity, i.line) for i in issues] == [("error", 14)] and "body.dat" in issues[0].message
    leaky = text.replace("{name: 様子, type: text, max_length: 500, free_text: true}",
                         "{name: 備考, to: persons.child.address, type: text}")  # fmt: skip
    layout, issues = check_spec_text(leaky)
    assert layout is not None and [(i.severity, i.line) for i in issues] == [("warning", 15)]


def test_cli_validate_and_try(tmp_path: Path) -> None:
    found = package(tmp_path, "p")
    spec, sample = (
        Path(str(found.specs)) / "kodomo_shokudo.yaml",
        Path(str(found.samples)) / "kodomo_shokudo_202604.csv",
    )
    runner = CliRunner()
    ok = runner.invoke(adapters_cli, ["validate", str(spec)])
    assert ok.exit_code == 0 and "ok: kodomo_shokudo" in ok.output
    tried = runner.invoke(adapters_cli, ["try", str(spec), str(sample)])
    assert tried.exit_code == 0, tried.output
    lines = tried.output.splitlines()
    assert lines[0].startswith('{"row": 1,') and '"atenaNo": "0000000018"' in lines[0]
    assert "元気に食べていた" not in tried.output  # free text: never in an event, never printed
    assert "quarantine row=2 column=利用日 code=invalid_date" in tried.output
    assert lines[-1].startswith("kodomo_shokudo_202604.csv: rows=2 records=1 quarantined=1")
    broken = tmp_path / "kodomo_shokudo_202605.csv"
    broken.write_bytes(b"ID,x\n1,2\n")
    rejected = runner.invoke(adapters_cli, ["try", str(spec), str(broken)])
    assert rejected.exit_code == 1 and "rejected (header_mismatch)" in rejected.output
    spec.write_text(spec.read_text(encoding="utf-8").replace("type: digits", "type: digit"), encoding="utf-8")
    invalid = runner.invoke(adapters_cli, ["validate", str(spec)])
    assert invalid.exit_code == 1 and f"{spec}:13: error:" in invalid.output


def test_conformance_passes_a_good_package_and_names_what_is_wrong(tmp_path: Path) -> None:
    conformance.assert_conformant(package(tmp_path, "good"))
    no_sample = conformance.run_checks(package(tmp_path, "bare", sample=None))
    assert [f.check for f in no_sample] == ["samples_parse"]
    broken = conformance.run_checks(package(tmp_path, "broken", sample="a,b\n1,2\n"))
    assert [f.check for f in broken] == ["samples_parse"] and "header_mismatch" in broken[0].message
    root = tmp_path / "leaky"
    leaky = package(tmp_path, "leaky")
    spec = root / "specs" / "kodomo_shokudo.yaml"
    leaked = "{name: 様子メモ, to: persons.child.address, type: text}"
    declared = "{name: 様子, type: text, max_length: 500, free_text: true}"
    text = spec.read_text(encoding="utf-8").replace(declared, leaked)
    spec.write_text(text, encoding="utf-8")
    (root / "samples" / "kodomo_shokudo_202604.csv").write_text(SAMPLE.replace("様子", "様子メモ"), encoding="utf-8")
    findings = conformance.check_free_text_never_in_events(leaky)
    assert findings and findings[0].check == "free_text_never_in_events" and "様子メモ" in findings[0].message
