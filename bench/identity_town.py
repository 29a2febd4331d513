"""A small reader of the town's documented layouts for identity's quality bench and test (independent of ingest).

It turns a synthetic town's files into identity's matching inputs (residents from 住民記録, one SourceRow per data
row of the other layouts, each naming persons as the row names them) and scores the answers against
truth/references.csv: per source, precision of automatic links and recall counting the review queue.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimamori.identity.domain.matching import Reference, Resident, Resolution, SourceRow
from mimamori.synthtown.oracle import parse_date as oracle_date
from mimamori.synthtown.oracle import read_rows

# layout → its encoding and, per role, the columns that name the person
# (atena, name, kana, sex, birth, address, school_code, student_no, school_name, grade)
Cols = dict[str, str]
LAYOUTS: dict[str, list[tuple[str, Cols]]] = {
    "jidou_teate": [("recipient", {"atena": "受給者宛名番号"}), ("child", {"atena": "児童宛名番号"})],
    "jidou_fuyou": [("recipient", {"atena": "受給者宛名番号"})],
    "hitorioya_iryo": [("recipient", {"atena": "受給者宛名番号"}), ("subject", {"atena": "対象者宛名番号"})],
    "shogai_techo": [("subject", {"atena": "宛名番号"})],
    "shogai_service": [("subject", {"atena": "宛名番号"})],
    "hoiku": [("child", {"atena": "児童宛名番号"})],
    "kenshin": [("subject", {"atena": "宛名番号"})],
    "ninshin": [("subject", {"atena": "妊婦宛名番号"})],
    "zeimu": [("subject", {"atena": "宛名番号"})],
    "koumu_meibo": [
        (
            "child",
            {
                "school_code": "学校コード",
                "student_no": "児童生徒番号",
                "name": "氏名",
                "kana": "ふりがな",
                "sex": "性別",
                "birth": "生年月日",
                "grade": "学年",
                "address": "住所",
            },
        ),
        ("guardian", {"name": "保護者氏名"}),
    ],
    "koumu_shusseki": [("child", {"school_code": "学校コード", "student_no": "児童生徒番号"})],
    "koumu_hokenshitsu": [("child", {"school_code": "学校コード", "student_no": "児童生徒番号"})],
    "soudan": [
        ("subject", {"atena": "対象者宛名番号"}),
        ("consulter", {"name": "相談者氏名"}),
        ("child", {"name": "対象児童氏名", "birth": "対象児童生年月日"}),
    ],
    "ssw_soudan": [("child", {"name": "児童生徒氏名", "birth": "生年月日", "school_name": "学校名", "grade": "学年"})],
    "gyakutai_tsukoku": [
        ("child", {"name": "児童氏名", "kana": "ふりがな", "sex": "性別", "birth": "生年月日", "address": "住所"})
    ],
    "seiho": [("head", {"name": "世帯主氏名", "birth": "世帯主生年月日", "address": "住所"})],
    "shugaku_enjo": [
        ("child", {"name": "児童生徒氏名", "birth": "生年月日", "school_name": "学校名"}),
        ("guardian", {"name": "保護者氏名"}),
    ],
    "kosodate_center": [("guardian", {"name": "保護者氏名"}), ("child", {"name": "子氏名", "birth": "子生年月日"})],
}


def parse_date(value: Any) -> str:
    """ISO date from YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, 和暦 (R5.4.1, 令和元年5月1日 …) or a date cell; else ''."""
    day = oracle_date(unicodedata.normalize("NFKC", value) if isinstance(value, str) else value)
    return day.isoformat() if day is not None else ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _reference(role: str, cols: Cols, row: dict[str, Any]) -> Reference | None:
    get = {field: row.get(column) for field, column in cols.items()}
    if not any(_text(v).strip() for v in get.values()):
        return None  # the row does not name this person (e.g. 対象者宛名番号 empty)
    birth_value = get.get("birth")
    return Reference(
        role=role,
        atena_no=_text(get.get("atena")).strip(),
        name=_text(get.get("name")),
        name_kana=_text(get.get("kana")),
        sex=_text(get.get("sex")),
        birth_iso=parse_date(birth_value),
        birth_raw=_text(birth_value),
        address=_text(get.get("address")),
        school_code=_text(get.get("school_code")),
        student_no=_text(get.get("student_no")),
        school_name=_text(get.get("school_name")),
        grade=_text(get.get("grade")),
    )


@dataclass
class Town:
    """A town read back from its files: residents, rows, and the truth to score against."""

    residents: list[Resident] = field(default_factory=list)
    rows: list[SourceRow] = field(default_factory=list)
    jumin_rows: list[tuple[str, str]] = field(default_factory=list)  # (row key, 宛名番号)
    truth: dict[tuple[str, int, str], str] = field(default_factory=dict)  # (file, row, role) → truth_id
    truth_of_atena: dict[str, str] = field(default_factory=dict)
    resident_truth: set[str] = field(default_factory=set)


def read_town(directory: Path) -> Town:
    """Residents (one per 宛名番号 over every month, names in order), rows of the other layouts, and the truth."""
    town = Town()
    names: dict[str, list[str]] = defaultdict(list)
    kanas: dict[str, list[str]] = defaultdict(list)
    setai: dict[str, list[str]] = defaultdict(list)
    latest: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("jumin_*.csv")):
        for number, row in enumerate(read_rows(path), start=1):
            atena = row["宛名番号"]
            names[atena].append(row["氏名"])
            kanas[atena].append(row["氏名カナ"])
            setai[atena].append(row["世帯コード"])
            latest[atena] = row
            town.jumin_rows.append((f"{path.name}#{number}", atena))
    for atena, row in latest.items():
        ordered = list(dict.fromkeys(reversed(names[atena])))
        town.residents.append(
            Resident(
                person_id=f"P{atena}",
                atena_no=atena,
                names=tuple(ordered),
                kanas=tuple(dict.fromkeys(reversed(kanas[atena]))),
                sex=row["性別"],
                birth_raw=row["生年月日"],
                birth_iso=parse_date(row["生年月日"]),
                address=row["住所"],
                setai_code=row["世帯コード"],
                resident=row["住民区分"] != "消除",
                former_setai_codes=tuple(c for c in dict.fromkeys(setai[atena]) if c != row["世帯コード"]),
            )
        )
    for path in sorted(directory.iterdir()):
        match = re.fullmatch(r"([a-z_]+)_(\d{6})\.(csv|xlsx)", path.name)
        if match is None or match[1] not in LAYOUTS:
            continue
        source, month = match[1], match[2]
        for number, row in enumerate(read_rows(path), start=1):
            refs = tuple(r for role, cols in LAYOUTS[source] if (r := _reference(role, cols, row)) is not None)
            town.rows.append(SourceRow(key=f"{path.name}#{number}", source=source, month=month, references=refs))
    truth_dir = directory / "truth"
    with (truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        for person in csv.DictReader(handle):
            if person["atena"]:
                town.truth_of_atena[person["atena"]] = person["truth_id"]
                town.resident_truth.add(person["truth_id"])
    with (truth_dir / "references.csv").open(encoding="utf-8") as handle:
        for ref in csv.DictReader(handle):
            town.truth[(ref["file"], int(ref["row"]), ref["role"])] = ref["truth_id"]
    return town


@dataclass
class SourceScore:
    """Counts of one source."""

    references: int = 0
    linked: int = 0
    linked_right: int = 0
    review: int = 0
    review_right: int = 0  # the one person proposed is right
    review_among: int = 0  # no single proposal; the right person is among those offered
    findable: int = 0  # references whose truth is a resident
    found: int = 0  # linked right or proposed right in review
    outsiders: int = 0
    outsiders_linked: int = 0
    unscored: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The counts with precision and recall."""
        return {
            **self.__dict__,
            "precision": self.linked_right / self.linked if self.linked else 1.0,
            "recall": self.found / self.findable if self.findable else 1.0,
            "recall_single_proposal": (self.linked_right + self.review_right) / self.findable if self.findable else 1.0,
            "auto_recall": self.linked_right / self.findable if self.findable else 1.0,
        }


def score(town: Town, answers: dict[str, tuple[Resolution, ...]]) -> dict[str, SourceScore]:
    """Per source: precision of automatic links, recall counting the review queue, outsiders linked."""
    scores: dict[str, SourceScore] = defaultdict(SourceScore)
    person_truth = {f"P{a}": t for a, t in town.truth_of_atena.items()}
    for row in town.rows:
        file_name, number = row.key.split("#")
        for ref, answer in zip(row.references, answers[row.key], strict=True):
            s = scores[row.source]
            truth = town.truth.get((file_name, int(number), ref.role))
            if truth is None:
                s.unscored += 1
                continue
            s.references += 1
            resident = truth in town.resident_truth
            s.findable += resident
            if not resident:
                s.outsiders += 1
            if answer.linked is not None:
                s.linked += 1
                right = person_truth.get(answer.linked) == truth
                s.linked_right += right
                s.found += right and resident
                s.outsiders_linked += not resident
            elif answer.needs_review:
                s.review += 1
                offered = {person_truth.get(p) for p in answer.proposed}
                right = truth in offered
                if answer.person_id is not None:
                    s.review_right += right
                else:
                    s.review_among += right
                s.found += right and resident
    return dict(scores)
