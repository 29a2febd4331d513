"""The ground truth covers every row and agrees with what the rows say."""

from __future__ import annotations

import csv
import json
from typing import Any

# Which 基幹系 column holds the 宛名番号 of the person in which role.
ATENA_COLUMNS: dict[str, dict[str, str]] = {
    "jumin": {"subject": "宛名番号"},
    "jidou_teate": {"recipient": "受給者宛名番号", "child": "児童宛名番号"},
    "jidou_fuyou": {"recipient": "受給者宛名番号"},
    "hitorioya_iryo": {"recipient": "受給者宛名番号", "subject": "対象者宛名番号"},
    "shogai_techo": {"subject": "宛名番号"},
    "shogai_service": {"subject": "宛名番号"},
    "hoiku": {"child": "児童宛名番号"},
    "kenshin": {"subject": "宛名番号"},
    "ninshin": {"subject": "妊婦宛名番号"},
    "soudan": {"subject": "対象者宛名番号"},
    "zeimu": {"subject": "宛名番号"},
}


def test_truth_names_the_persons_of_every_row_of_every_file(town: Any) -> None:
    files = sorted(path.name for path in town.out_dir.iterdir() if path.is_file())
    assert sorted(town.truth.rows) == files
    for name in files:
        source, month = name.rsplit(".", 1)[0].rsplit("_", 1)
        rows = town.rows(source, month)
        assert len(town.truth.rows[name]) == len(rows), name
        assert all(refs for refs in town.truth.rows[name]), name
    for _, _, ref in town.truth.references():
        assert ref.truth_id in town.truth.persons


def test_atena_columns_hold_the_referenced_persons_atena(town: Any) -> None:
    for source, columns in ATENA_COLUMNS.items():
        for month in town.truth.months:
            path = town.path(source, month)
            for row, refs in zip(town.rows(source, month), town.truth.rows[path.name], strict=True):
                for role, column in columns.items():
                    named = [ref for ref in refs if ref.role == role]
                    if row[column]:
                        assert [town.truth.persons[ref.truth_id].atena for ref in named] == [row[column]], (
                            source
                        )
                    else:
                        assert not named, source


def test_school_roll_rows_reference_the_child_whose_birth_date_they_show(town: Any) -> None:
    for month in town.truth.months:
        path = town.path("koumu_meibo", month)
        for row, refs in zip(town.rows("koumu_meibo", month), town.truth.rows[path.name], strict=True):
            child = next(ref for ref in refs if ref.role == "child")
            assert town.truth.persons[child.truth_id].birth_date.isoformat() == row["生年月日"]


def test_non_residents_have_no_atena_and_only_appear_outside_kikan(town: Any) -> None:
    outsiders = {tid for tid, person in town.truth.persons.items() if person.atena is None}
    assert outsiders
    for name, rows in town.truth.rows.items():
        source = name.rsplit("_", 1)[0]
        if source in ATENA_COLUMNS and source != "soudan":
            assert not any(ref.truth_id in outsiders for refs in rows for ref in refs), name


def test_truth_files_are_written_next_to_the_exports(town: Any) -> None:
    directory = town.out_dir / "truth"
    with (directory / "persons.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(town.truth.persons)
    with (directory / "references.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == sum(1 for _ in town.truth.references())
    with (directory / "scenarios.csv").open(encoding="utf-8") as handle:
        assert {row["scenario"] for row in csv.DictReader(handle)} == set(town.truth.scenarios)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == {name: len(rows) for name, rows in town.truth.rows.items()}
