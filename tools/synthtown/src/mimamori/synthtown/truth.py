"""Ground truth: who every synthetic person is, and whom every row of every file names."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mimamori.synthtown.model import Person, PersonRef

TRUTH_DIR = "truth"


@dataclass(frozen=True)
class TruthPerson:
    """A synthetic person as they are at the end of the last month."""

    truth_id: str
    atena: str | None  # None: never a resident (no 宛名番号)
    atena_standard: bool  # issued under the national standard: the check digit is valid
    name: str  # common form
    legal_name: str  # as 住民記録 holds it (variants, 外字)
    kana: str  # full-width katakana
    sex: int
    birth_date: date  # the true date
    recorded_birth: str  # as 住民記録 holds it (may be partly unknown)
    former_names: tuple[str, ...]  # family names before a 氏名変更 (legal form)

    @classmethod
    def of(cls, person: Person) -> TruthPerson:
        return cls(
            truth_id=person.truth_id,
            atena=person.atena,
            atena_standard=person.atena_standard,
            name=person.name,
            legal_name=person.legal_name,
            kana=person.kana,
            sex=person.sex,
            birth_date=person.birth,
            recorded_birth=person.recorded_birth,
            former_names=tuple(person.former_family_names),
        )


@dataclass
class TownTruth:
    """What identity matching and risk scoring are scored against.

    `rows[file_name][n - 1]` holds the persons referenced by data row n of that file (the header is
    row 0; in an XLSX sheet data row n is sheet row n + 1).
    """

    seed: int
    months: list[str]
    municipality_code: str
    noise: bool
    persons: dict[str, TruthPerson] = field(default_factory=dict)
    rows: dict[str, list[tuple[PersonRef, ...]]] = field(default_factory=dict)
    scenarios: dict[str, list[str]] = field(default_factory=dict)  # tag → truth ids of the scored children
    scenario_notes: dict[str, str] = field(default_factory=dict)

    def references(self) -> Iterator[tuple[str, int, PersonRef]]:
        """(file name, data row number from 1, person reference) for every reference."""
        for file_name, rows in self.rows.items():
            for number, refs in enumerate(rows, start=1):
                for ref in refs:
                    yield file_name, number, ref

    def by_atena(self) -> dict[str, TruthPerson]:
        return {person.atena: person for person in self.persons.values() if person.atena}


def write_truth(truth: TownTruth, out_dir: Path) -> None:
    """truth/persons.csv, truth/references.csv, truth/scenarios.csv and truth/manifest.json (UTF-8)."""
    directory = out_dir / TRUTH_DIR
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "persons.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            (
                "truth_id",
                "atena",
                "atena_standard",
                "name",
                "legal_name",
                "kana",
                "sex",
                "birth_date",
                "recorded_birth",
                "former_names",
            )
        )
        for person in truth.persons.values():
            writer.writerow(
                (
                    person.truth_id,
                    person.atena or "",
                    int(person.atena_standard),
                    person.name,
                    person.legal_name,
                    person.kana,
                    person.sex,
                    person.birth_date.isoformat(),
                    person.recorded_birth,
                    "|".join(person.former_names),
                )
            )
    with (directory / "references.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("file", "row", "truth_id", "role"))
        for file_name, number, ref in truth.references():
            writer.writerow((file_name, number, ref.truth_id, ref.role))
    with (directory / "scenarios.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("scenario", "truth_id", "note"))
        for tag, truth_ids in truth.scenarios.items():
            for truth_id in truth_ids:
                writer.writerow((tag, truth_id, truth.scenario_notes.get(tag, "")))
    manifest = {
        "seed": truth.seed,
        "months": truth.months,
        "municipality_code": truth.municipality_code,
        "noise": truth.noise,
        "persons": len(truth.persons),
        "files": {name: len(rows) for name, rows in truth.rows.items()},
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
