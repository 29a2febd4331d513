"""Every branch of the ヤングケアラー rule occurs: scored here from the files, people identified by truth."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from mimamori.synthtown.months import Month, age_on

# (a), (b), (c), (d) per month 202604, 202605, 202606; None = not a candidate ((a)+(b)+(c) = 0).
EXPECTED: dict[str, list[tuple[int, int, int, int] | None]] = {
    "yc_single_mother_iryo_no_support": [(1, 0, 0, 10)] * 3,
    "yc_single_father_fuyou_teishi": [(1, 0, 0, 1)] * 3,
    "yc_single_mother_both_benefits_hoiku_sibling": [(1, 1, 0, 1)] * 3,
    "yc_single_parent_without_benefit": [None] * 3,
    "yc_parent_techo": [(1, 0, 0, 1)] * 3,
    "yc_single_mother_techo_iryo": [(2, 0, 0, 10)] * 3,
    "yc_sibling_hoiku_1go": [(0, 1, 0, 1)] * 3,
    "yc_sibling_disability_service": [(0, 2, 0, 10)] * 3,
    "yc_twin_service_not_younger": [None] * 3,
    "yc_older_sibling_service_not_counted": [None] * 3,
    "yc_tardy_every_month": [(0, 0, 2, 1), (0, 0, 2, 1), (0, 0, 1, 1)],
    "yc_tardy_rising": [None, (0, 0, 1, 10), (0, 0, 2, 10)],
    "yc_tardy_school_change": [None, (0, 0, 2, 1), (0, 0, 1, 1)],
    "yc_grandchild_parent_techo": [(1, 0, 0, 1)] * 3,
    "yc_grandchild_single_parent_iryo": [(1, 0, 0, 1)] * 3,
    "yc_all_four_supports": [(1, 0, 0, 4)] * 3,
    "yc_consultation_outside_window": [(1, 0, 0, 10)] * 3,
    "yc_benefits_ended": [(0, 0, 2, 10), (0, 0, 1, 10), (0, 0, 1, 10)],
    "yc_benefit_starts_next_month": [None, (1, 0, 0, 10), (1, 0, 0, 10)],
    "yc_sibling_left_hoiku": [None] * 3,
    "yc_raised_by_grandparent_fuyou": [(0, 0, 2, 10), (0, 0, 1, 10), (0, 0, 1, 10)],
    "yc_divorce_story": [None, None, (1, 0, 2, 1)],
}

PARENT_RELATIONS = {"子": ("世帯主", "妻", "夫"), "孫": ("子", "子の妻")}


@dataclass
class Resident:
    truth_id: str
    household: str
    relation: str
    birth: date
    current: bool


def _ids(refs: tuple[Any, ...], role: str | None = None) -> set[str]:
    return {ref.truth_id for ref in refs if role is None or ref.role == role}


def _ymd(text: object) -> date | None:
    text = str(text or "")
    return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if text else None


class MonthView:
    """One month's files, each row paired with the truth ids it references."""

    def __init__(self, town: Any, month: str) -> None:
        self.town, self.month = town, month

    def rows(self, source: str, month: str | None = None) -> list[tuple[dict[str, object], tuple[Any, ...]]]:
        month = month or self.month
        path = self.town.path(source, month)
        return list(zip(self.town.rows(source, month), self.town.truth.rows[path.name], strict=True))


def score(town: Any, child_id: str, month: str) -> tuple[int, int, int, int] | None:
    view = MonthView(town, month)
    current = Month.parse(month)
    day = current.last_day
    residents = {}
    for row, refs in view.rows("jumin"):
        (truth_id,) = _ids(refs)
        birth = town.truth.persons[truth_id].birth_date
        residents[truth_id] = Resident(
            truth_id, str(row["世帯コード"]), str(row["続柄"]), birth, row["住民区分"] == "住民"
        )
    child = residents[child_id]
    assert child.current
    on_roll = {ref.truth_id for _, refs in view.rows("koumu_meibo") for ref in refs if ref.role == "child"}
    assert child_id in on_roll
    household = [r for r in residents.values() if r.household == child.household and r.current]
    parents = {
        r.truth_id
        for r in household
        if r.relation in PARENT_RELATIONS.get(child.relation, ()) and age_on(r.birth, day) >= 18
    }
    younger = {r.truth_id for r in household if r.relation == child.relation and r.birth > child.birth}

    benefit = any(
        _ids(refs, "recipient") & parents
        and _ymd(row["資格取得日"]) <= day  # type: ignore[operator]
        and (not row["資格喪失日"] or day < _ymd(row["資格喪失日"]))  # type: ignore[operator]
        for row, refs in view.rows("hitorioya_iryo")
    ) or any(
        _ids(refs, "recipient") & parents and row["資格"] == "有" for row, refs in view.rows("jidou_fuyou")
    )
    techo = any(
        _ids(refs) & parents and (not row["有効期限"] or day <= _ymd(row["有効期限"]))  # type: ignore[operator]
        for row, refs in view.rows("shogai_techo")
    )
    a = int(benefit) + int(techo)
    hoiku = any(
        _ids(refs) & younger
        and _ymd(row["入所日"]) <= day  # type: ignore[operator]
        and (not row["退所日"] or day <= _ymd(row["退所日"]))  # type: ignore[operator]
        for row, refs in view.rows("hoiku")
    )
    service = any(
        _ids(refs) & younger and _ymd(row["支給決定開始日"]) <= day <= _ymd(row["支給決定終了日"])  # type: ignore[operator]
        for row, refs in view.rows("shogai_service")
    )
    b = int(hoiku) + 2 * int(service)

    def tardies(code: str) -> int:
        if code not in town.truth.months:
            return 0
        marks = {
            (row["学校コード"], row["児童生徒番号"], row["日付"])
            for row, refs in view.rows("koumu_shusseki", code)
            if row["区分"] == "遅刻" and child_id in _ids(refs)
        }
        return len(marks)

    last, before = tardies(month), tardies(current.shift(-1).code)
    c = int(last >= 3) + int(last - before >= 2)
    if a + b + c == 0:
        return None

    window_start = current.shift(-11).first_day
    family = parents | {child_id}
    kinds = defaultdict(bool)
    for row, refs in view.rows("soudan"):
        if window_start <= _ymd(row["相談日"]) <= day and _ids(refs) & family:  # type: ignore[operator]
            kinds[str(row["相談区分"])] = True
    nurse = any(
        child_id in _ids(refs)
        for code in town.truth.months
        if code <= month
        for _, refs in view.rows("koumu_hokenshitsu", code)
    )
    ssw = any(
        child_id in _ids(refs) and window_start <= town.parse_date(row["受付日"]) <= day
        for row, refs in view.rows("ssw_soudan")
    )
    d = int(kinds["ひとり親相談"]) + int(kinds["子育て総合相談"]) + int(nurse) + int(ssw)
    return a, b, c, d or 10


def test_every_young_carer_branch_scores_as_planted(town: Any) -> None:
    assert set(town.truth.scenarios) == set(EXPECTED)
    for tag, expected in EXPECTED.items():
        (child_id,) = town.truth.scenarios[tag]
        actual = [score(town, child_id, month) for month in town.truth.months]
        assert actual == expected, tag


def test_oracle_agrees_with_this_scoring_for_every_scored_child(town: Any) -> None:
    from mimamori.synthtown.oracle import MonthOracle, TownFiles

    files = TownFiles(town.out_dir)
    by_atena = town.truth.by_atena()
    for month in town.truth.months:
        oracle = MonthOracle(files, month)
        children = oracle.scored_children()
        assert len(children) > 100
        for child in children:
            expected = score(town, by_atena[child.atena].truth_id, month)
            actual = oracle.young_carer(child)
            assert (actual[:4] if actual else None) == expected, (month, child.truth_id)
            if actual is not None:
                assert actual[4] == sum(actual[:4])
        for tag, rows in EXPECTED.items():
            (child_id,) = town.truth.scenarios[tag]
            scored = oracle.young_carer(oracle.residents[child_id])
            assert (scored[:4] if scored else None) == rows[town.truth.months.index(month)], tag


def test_oracle_eligibility_lists_are_non_trivial_and_follow_the_definitions(town: Any) -> None:
    from mimamori.synthtown.oracle import MonthOracle, TownFiles

    oracle = MonthOracle(TownFiles(town.out_dir), town.truth.months[-1])
    lists = oracle.eligibility()
    assert all(lists[name] for name in ("E1", "E2", "E3")), {k: len(v) for k, v in lists.items()}
    tax = oracle.tax_status()
    atena_to_id = {r.atena: tid for tid, r in oracle.residents.items()}
    for atena in lists["E1"]:
        assert tax[atena_to_id[atena]] == "非課税"
        assert atena in {oracle.residents[p].atena for p in oracle.only_parents()}
    for atena in lists["E3"]:
        assert tax[atena_to_id[atena]] in ("非課税", "均等割のみ")
