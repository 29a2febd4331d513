"""An independent computation of the documented rules on a generated town, from its files and its truth.

The risk service is checked against this, child by child: the young-carer rule of 図表7 and the eligibility
lists E1–E3, with the defaults of `shared/domain/README.md`. It reads only what is on disk (the month files
and `truth/`), identifies people by the truth (so it does not depend on identity matching) and shares no code
with the services. Interpretations where the domain text leaves a choice are written next to the code.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl

from mimamori.synthtown.months import Month, age_on

ENCODINGS = {
    "utf-8-sig": ("koumu_meibo", "koumu_shusseki", "koumu_hokenshitsu"),
    "utf-8": ("kosodate_center",),
}
PARENT_RELATIONS = {"子": ("世帯主", "妻", "夫"), "孫": ("子", "子の妻", "子の夫")}
Score = tuple[int, int, int, int, int]  # (a), (b), (c), (d), total


def parse_date(value: object) -> date | None:
    """A date as a source writes it (YYYYMMDD, ISO, YYYY/MM/DD, a date cell, 和暦); None when empty or unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?: .*)?", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        bases = {"R": 2018, "令和": 2018, "H": 1988, "平成": 1988, "S": 1925, "昭和": 1925}
        if m := re.fullmatch(r"([RHS])(\d+)\.(\d+)\.(\d+)", text):
            return date(bases[m[1]] + int(m[2]), int(m[3]), int(m[4]))
        if m := re.fullmatch(r"(令和|平成|昭和)(\d+|元)年(\d+)月(\d+)日", text):
            year = 1 if m[2] == "元" else int(m[2])
            return date(bases[m[1]] + year, int(m[3]), int(m[4]))
    except ValueError:
        return None
    return None


def read_rows(path: Path) -> list[dict[str, object]]:
    """The data rows of a generated file as column → value (text for CSV; cell values for XLSX)."""
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        values = list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        header = [str(v) for v in values[0]]
        return [dict(zip(header, row, strict=True)) for row in values[1:]]
    source = path.name.rsplit("_", 1)[0]
    encoding = next((enc for enc, names in ENCODINGS.items() if source in names), "cp932")
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@dataclass(frozen=True)
class Resident:
    """A person of the month's 住民記録."""

    truth_id: str
    atena: str
    household: str
    relation: str
    birth: date
    current: bool


class TownFiles:
    """A generated town directory: month files with, per data row, the truth ids and roles it names."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.births: dict[str, date] = {}
        with (directory / "truth" / "persons.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                self.births[row["truth_id"]] = date.fromisoformat(row["birth_date"])
        self.refs: dict[str, dict[int, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
        with (directory / "truth" / "references.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                self.refs[row["file"]][int(row["row"])].append((row["truth_id"], row["role"]))
        self._cache: dict[str, list[tuple[dict[str, object], list[tuple[str, str]]]]] = {}

    def months(self) -> list[str]:
        """The months whose 住民記録 was delivered, oldest first."""
        return sorted(p.stem.split("_")[-1] for p in self.directory.glob("jumin_*.csv"))

    def rows(self, source: str, month: str) -> list[tuple[dict[str, object], list[tuple[str, str]]]]:
        """Data rows of one file (empty when not delivered), each with the (truth id, role) pairs it names."""
        matches = list(self.directory.glob(f"{source}_{month}.*"))
        if not matches:
            return []
        path = matches[0]
        if path.name not in self._cache:
            records = read_rows(path)
            refs = self.refs.get(path.name, {})
            self._cache[path.name] = [(record, refs.get(n, [])) for n, record in enumerate(records, start=1)]
        return self._cache[path.name]


def _ids(refs: Iterable[tuple[str, str]], *roles: str) -> set[str]:
    return {truth_id for truth_id, role in refs if not roles or role in roles}


def _active(start: date | None, end: date | None, day: date, *, end_exclusive: bool) -> bool:
    if start is not None and start > day:
        return False
    if end is None:
        return True
    return day < end if end_exclusive else day <= end


def _child_until(birth: date) -> date:
    """The last day of being a 児童 (児童扶養手当): the first 31 March on or after the day before turning 18."""
    try:
        eighteen = birth.replace(year=birth.year + 18)
    except ValueError:  # 29 February
        eighteen = date(birth.year + 18, 3, 1)
    reached = eighteen - timedelta(days=1)
    march = date(reached.year, 3, 31)
    return march if march >= reached else date(reached.year + 1, 3, 31)


class MonthOracle:
    """Everything the rules need for one assessment month."""

    def __init__(self, town: TownFiles, month: str) -> None:
        self.town, self.month = town, month
        self.current = Month.parse(month)
        self.day = self.current.last_day
        self.residents: dict[str, Resident] = {}
        for row, refs in town.rows("jumin", month):
            (truth_id,) = _ids(refs)
            self.residents[truth_id] = Resident(
                truth_id,
                str(row["宛名番号"]),
                str(row["世帯コード"]),
                str(row["続柄"]),
                town.births[truth_id],
                row["住民区分"] == "住民",
            )

    def household(self, person: Resident) -> list[Resident]:
        """Current residents of the person's household."""
        return [r for r in self.residents.values() if r.household == person.household and r.current]

    def parents(self, child: Resident) -> set[str]:
        """Father and mother by 続柄 in the child's current household, 18 or older on D."""
        relations = PARENT_RELATIONS.get(child.relation, ())
        return {
            r.truth_id
            for r in self.household(child)
            if r.relation in relations and r.truth_id != child.truth_id and age_on(r.birth, self.day) >= 18
        }

    def scored_children(self) -> list[Resident]:
        """Every child on the month's school roll who is a current resident."""
        on_roll = {tid for _, refs in self.town.rows("koumu_meibo", self.month) for tid in _ids(refs, "child")}
        return [r for tid, r in self.residents.items() if tid in on_roll and r.current]

    # ヤングケアラー (図表7) ------------------------------------------------------------------------

    def single_parent_benefit(self, parents: set[str]) -> bool:
        """(a-1): ひとり親医療費助成 or 児童扶養手当 資格 active on D with a parent as 受給者."""
        day = self.day
        for row, refs in self.town.rows("hitorioya_iryo", self.month):
            if _ids(refs, "recipient") & parents and _active(
                parse_date(row["資格取得日"]), parse_date(row["資格喪失日"]), day, end_exclusive=True
            ):
                return True
        for row, refs in self.town.rows("jidou_fuyou", self.month):
            if (
                _ids(refs, "recipient") & parents
                and row["資格"] == "有"
                and _active(parse_date(row["認定日"]), parse_date(row["喪失日"]), day, end_exclusive=True)
            ):
                return True
        return False

    def young_carer(self, child: Resident) -> Score | None:
        """(a), (b), (c), (d) and the total; None when (a)+(b)+(c) = 0."""
        day, month = self.day, self.month
        parents = self.parents(child)
        techo = any(
            _ids(refs) & parents
            and _active(parse_date(row["交付日"]), parse_date(row["有効期限"]), day, end_exclusive=False)
            for row, refs in self.town.rows("shogai_techo", month)
        )
        a = int(self.single_parent_benefit(parents)) + int(techo)
        younger = {r.truth_id for r in self.household(child) if r.relation == child.relation and r.birth > child.birth}
        hoiku = any(
            _ids(refs) & younger
            and _active(parse_date(row["入所日"]), parse_date(row["退所日"]), day, end_exclusive=False)
            for row, refs in self.town.rows("hoiku", month)
        )
        service = any(
            _ids(refs) & younger
            and _active(parse_date(row["支給決定開始日"]), parse_date(row["支給決定終了日"]), day, end_exclusive=False)
            for row, refs in self.town.rows("shogai_service", month)
        )
        b = int(hoiku) + 2 * int(service)

        def tardies(code: str) -> int:
            marks = {
                (row["学校コード"], row["児童生徒番号"], row["日付"], row["区分"])
                for row, refs in self.town.rows("koumu_shusseki", code)
                if row["区分"] == "遅刻" and child.truth_id in _ids(refs)
            }
            return len(marks)

        last, before = tardies(month), tardies(self.current.shift(-1).code)
        c = int(last >= 3) + int(last - before >= 2)
        if a + b + c == 0:
            return None
        start = self.current.shift(-11).first_day
        family = parents | {child.truth_id}
        kinds: set[str] = set()
        for row, refs in self.town.rows("soudan", month):
            when = parse_date(row["相談日"])
            if when is not None and start <= when <= day and _ids(refs) & family:
                kinds.add(str(row["相談区分"]))
        nurse = any(
            child.truth_id in _ids(refs) and (when := parse_date(row["来室日時"])) is not None and start <= when <= day
            for code in self.town.months()
            if code <= month
            for row, refs in self.town.rows("koumu_hokenshitsu", code)
        )
        ssw = any(
            child.truth_id in _ids(refs) and (when := parse_date(row["受付日"])) is not None and start <= when <= day
            for row, refs in self.town.rows("ssw_soudan", month)
        )
        d = int("ひとり親相談" in kinds) + int("子育て総合相談" in kinds) + int(nurse) + int(ssw)
        d = d or 10
        return a, b, c, d, a + b + c + d

    # 受給要件 E1–E3 ----------------------------------------------------------------------------------

    def tax_status(self) -> dict[str, str]:
        """課税区分 per truth id in the latest 年度 present in the month's zeimu file."""
        rows = self.town.rows("zeimu", self.month)
        if not rows:
            return {}
        latest = max(int(str(row["年度"])) for row, _ in rows)
        return {
            tid: str(row["課税区分"]) for row, refs in rows if int(str(row["年度"])) == latest for tid in _ids(refs)
        }

    def only_parents(self) -> set[str]:
        """Parents who are the only parent of a 児童 (子 or 孫 under the 児童扶養手当 age) in their household."""
        result: set[str] = set()
        for person in self.residents.values():
            if not person.current or person.relation not in PARENT_RELATIONS or person.birth > self.day:
                continue
            if self.day > _child_until(person.birth):
                continue
            parents = self.parents(person)
            if len(parents) == 1:
                result |= parents
        return result

    def eligibility(self) -> dict[str, set[str]]:
        """宛名番号 listed by E1 and E3 (the parent) and E2 (the child)."""
        tax = self.tax_status()
        day, month = self.day, self.month
        only = self.only_parents()
        fuyou = {
            tid
            for row, refs in self.town.rows("jidou_fuyou", month)
            if row["資格"] == "有"
            and _active(parse_date(row["認定日"]), parse_date(row["喪失日"]), day, end_exclusive=True)
            for tid in _ids(refs, "recipient")
        }
        iryo = {
            tid
            for row, refs in self.town.rows("hitorioya_iryo", month)
            if _active(parse_date(row["資格取得日"]), parse_date(row["資格喪失日"]), day, end_exclusive=True)
            for tid in _ids(refs, "recipient")
        }
        school_year = day.year if day.month >= 4 else day.year - 1
        aided = {
            tid
            for row, refs in self.town.rows("shugaku_enjo", month)
            if int(str(row["年度"])) == school_year
            for tid in _ids(refs, "child")
        }
        atena = {tid: r.atena for tid, r in self.residents.items()}
        e1 = {atena[p] for p in only if tax.get(p) == "非課税" and p not in fuyou}
        e3 = {atena[p] for p in only if tax.get(p) in ("非課税", "均等割のみ") and p not in iryo}
        e2 = set()
        for child in self.scored_children():
            parents = self.parents(child)
            if parents and all(tax.get(p) == "非課税" for p in parents) and child.truth_id not in aided:
                e2.add(child.atena)
        return {"E1": e1, "E2": e2, "E3": e3}


def young_carer_scores(directory: Path, month: str) -> dict[str, Score | None]:
    """宛名番号 of every scored child → (a), (b), (c), (d), total, or None when not a candidate."""
    oracle = MonthOracle(TownFiles(directory), month)
    return {child.atena: oracle.young_carer(child) for child in oracle.scored_children()}


def eligibility_lists(directory: Path, month: str) -> dict[str, set[str]]:
    """E1, E2, E3 → the 宛名番号 listed."""
    return MonthOracle(TownFiles(directory), month).eligibility()
