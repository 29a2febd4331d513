"""The town is realistic enough to exercise ingest, identity matching and risk scoring."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

VARIANT_CHARS = set("髙﨑邊邉齋齊濵濱德冨澤實")


def _refs(town: Any, source: str, month: str) -> list[Any]:
    return town.truth.rows[town.path(source, month).name]


def _with_refs(town: Any, source: str, month: str) -> list[tuple[dict[str, Any], Any]]:
    return list(zip(town.rows(source, month), _refs(town, source, month), strict=True))


def _residents(town: Any, month: str) -> list[dict[str, Any]]:
    return [row for row in town.rows("jumin", month) if row["住民区分"] == "住民"]


def test_households_hold_one_to_six_persons_with_relations_to_the_head(town: Any) -> None:
    residents = _residents(town, town.truth.months[0])
    sizes = Counter(row["世帯コード"] for row in residents)
    assert set(sizes.values()) <= set(range(1, 7)) and {1, 2, 3, 4, 5} <= set(sizes.values())
    relations = {row["続柄"] for row in residents}
    assert {"世帯主", "妻", "子", "孫", "子の妻", "母"} <= relations
    heads = Counter(row["世帯コード"] for row in residents if row["続柄"] == "世帯主")
    assert all(heads[code] == 1 for code in sizes)


def test_about_a_tenth_of_households_are_single_parent_families(town: Any) -> None:
    residents = _residents(town, town.truth.months[0])
    by_household: dict[str, list[str]] = defaultdict(list)
    for row in residents:
        by_household[row["世帯コード"]].append(row["続柄"])
    single = sum(
        1 for rel in by_household.values() if "子" in rel and "世帯主" in rel and not {"妻", "夫"} & set(rel)
    )
    assert 0.07 <= single / len(by_household) <= 0.3


def test_twins_and_children_who_share_name_and_birth_date_exist(town: Any) -> None:
    residents = _residents(town, town.truth.months[0])
    births = Counter((row["世帯コード"], row["生年月日"]) for row in residents if row["続柄"] in ("子", "孫"))
    assert any(count >= 2 for count in births.values())
    same = Counter(
        (person.name, person.birth_date) for person in town.truth.persons.values() if person.atena is not None
    )
    assert any(count >= 2 for count in same.values())


def test_jumin_keeps_removed_persons_a_dv_flag_and_partly_unknown_births(town: Any) -> None:
    rows = town.rows("jumin", town.truth.months[0])
    removed = {row["異動事由"] for row in rows if row["住民区分"] == "消除"}
    assert {"転出", "死亡"} <= removed
    assert any(row["支援措置"] == "1" for row in rows)
    assert any(re.fullmatch(r"\d{4}(0000|\d\d00|0229)", row["生年月日"]) for row in rows)


def test_gaiji_survive_cp932_as_user_defined_area_bytes(town: Any) -> None:
    month = town.truth.months[0]
    data = town.path("jumin", month).read_bytes()
    names = [row["氏名"] for row in town.rows("jumin", month)]
    gaiji = [name for name in names if any("\ue000" <= char <= "\ue757" for char in name)]
    assert gaiji
    assert "\ue000".encode("cp932") == b"\xf0\x40" and b"\xf0\x40" in data
    assert all(name.encode("cp932").decode("cp932") == name for name in gaiji)


def test_kikan_uses_legal_variants_and_half_width_kana_while_schools_write_common_forms(town: Any) -> None:
    month = town.truth.months[0]
    jumin = town.rows("jumin", month)
    assert any(VARIANT_CHARS & set(row["氏名"]) for row in jumin)
    assert all(re.fullmatch(r"[\uff61-\uff9f ]+", row["氏名カナ"]) for row in jumin)
    roll = _with_refs(town, "koumu_meibo", month)
    assert all(re.fullmatch(r"[\u3041-\u309f\u30fc ]+", row["ふりがな"]) for row, _ in roll)
    legal_variant_children = {
        tid for tid, person in town.truth.persons.items() if VARIANT_CHARS & set(person.legal_name)
    }
    common_on_roll = [
        row["氏名"]
        for row, refs in roll
        if refs[0].truth_id in legal_variant_children and not VARIANT_CHARS & set(row["氏名"])
    ]
    assert common_on_roll


def test_addresses_follow_each_systems_style(town: Any) -> None:
    month = town.truth.months[0]
    jumin = town.rows("jumin", month)
    assert all(
        re.fullmatch(r"神奈川県足柄上郡開成町\S+?[０-９]+番地(の[０-９]+)?(　\S+[０-９]+)?", row["住所"])
        for row in jumin
    )
    typed = [row["住所"] for row in town.rows("koumu_meibo", month)]
    assert any(re.match(r"開成町\D+\d+(-\d+)?", address) for address in typed)
    assert any(address.startswith("神奈川県") for address in typed)
    assert any(re.search(r"[０-９]", address) for address in typed)


def test_school_roll_holds_grades_one_to_nine_and_children_change_school(town: Any) -> None:
    months = town.truth.months
    rolls = [_with_refs(town, "koumu_meibo", month) for month in months]
    assert {int(row["学年"]) for row, _ in rolls[0]} == set(range(1, 10))
    places = [{refs[0].truth_id: row["学校コード"] for row, refs in roll} for roll in rolls]
    changed = [tid for tid in places[0] if tid in places[1] and places[0][tid] != places[1][tid]]
    assert changed


def test_attendance_holds_only_the_months_marks_with_heavy_and_rising_tardiness(town: Any) -> None:
    tardies: list[Counter[str]] = []
    for month in town.truth.months:
        rows = _with_refs(town, "koumu_shusseki", month)
        assert all(row["日付"].replace("-", "").startswith(month) for row, _ in rows)
        assert {"欠席", "遅刻", "早退"} <= {row["区分"] for row, _ in rows}
        marks = {(refs[0].truth_id, row["日付"]) for row, refs in rows if row["区分"] == "遅刻"}
        tardies.append(Counter(truth_id for truth_id, _ in marks))
    assert any(count >= 3 for count in tardies[-1].values())
    assert any(tardies[0][tid] < tardies[1][tid] < tardies[2][tid] for tid in tardies[2])
    hokenshitsu = town.rows("koumu_hokenshitsu", town.truth.months[0])
    assert hokenshitsu and all(
        row["主訴"] and row["対応"] in ("休養", "処置", "早退", "相談") for row in hokenshitsu
    )


def test_consultations_name_persons_by_atena_or_by_name_only(town: Any) -> None:
    rows = town.rows("soudan", town.truth.months[-1])
    assert any(row["対象者宛名番号"] for row in rows) and any(not row["対象者宛名番号"] for row in rows)
    assert {"ひとり親相談", "子育て総合相談"} <= {row["相談区分"] for row in rows}
    assert any(row["対象児童氏名"] and not row["対象児童生年月日"] for row in rows)


def test_abuse_list_includes_a_child_who_does_not_live_in_the_town(town: Any) -> None:
    refs = _refs(town, "gyakutai_tsukoku", town.truth.months[-1])
    assert any(town.truth.persons[ref.truth_id].atena is None for row in refs for ref in row)


def test_benefit_and_health_sources_hold_the_edge_values(town: Any) -> None:
    month = town.truth.months[-1]
    assert "全部停止" in {row["支給区分"] for row in town.rows("jidou_fuyou", month)}
    assert "無" in {row["資格"] for row in town.rows("jidou_fuyou", month)}
    assert "1号" in {row["認定区分"] for row in town.rows("hoiku", month)}
    kenshin = town.rows("kenshin", month)
    assert any(not row["受診日"] and row["対象年月"] < month for row in kenshin)  # 未受診
    assert all(not row["EPDS点数"] or row["健診種別"].startswith("産婦") for row in kenshin)
    assert any(row["EPDS点数"] and int(row["EPDS点数"]) >= 9 for row in kenshin)
    assert any(row["特定妊婦"] == "1" for row in town.rows("ninshin", month))
    assert {"課税", "非課税", "均等割のみ"} <= {row["課税区分"] for row in town.rows("zeimu", month)}
    assert {"身体", "療育", "精神"} <= {row["手帳種別"] for row in town.rows("shogai_techo", month)}


def test_free_text_fields_hold_sentences(town: Any) -> None:
    month = town.truth.months[-1]
    for source, column in (
        ("soudan", "概要"),
        ("koumu_hokenshitsu", "主訴"),
        ("kenshin", "備考"),
        ("kosodate_center", "相談メモ"),
        ("koumu_shusseki", "理由"),
        ("ssw_soudan", "概要"),
    ):
        assert any(row[column] for row in town.rows(source, month)), source


def test_persons_evolve_between_months(town: Any) -> None:
    first, *later = town.truth.months
    jumin = {
        month: {row["宛名番号"]: row for row in town.rows("jumin", month)} for month in town.truth.months
    }
    assert set(jumin[first]) < set(jumin[later[-1]])  # nobody disappears from the snapshot, some arrive
    changes = [row for month in later for row in jumin[month].values() if row["異動日"][:6] == month]
    assert {"出生", "転入", "転出", "氏名変更", "世帯変更"} <= {row["異動事由"] for row in changes}
    (child_id,) = town.truth.scenarios["yc_divorce_story"]
    child = town.truth.persons[child_id]
    before = [r for r in jumin[first].values() if r["世帯コード"] == jumin[first][child.atena]["世帯コード"]]
    father = next(r for r in before if r["続柄"] == "世帯主")
    assert jumin[later[0]][father["宛名番号"]]["世帯コード"] != jumin[later[0]][child.atena]["世帯コード"]
    mother = next(r for r in before if r["続柄"] == "妻")
    assert jumin[later[0]][mother["宛名番号"]]["続柄"] == "世帯主"
    assert jumin[later[1]][mother["宛名番号"]]["異動事由"] == "氏名変更"
    assert jumin[later[1]][mother["宛名番号"]]["氏名"] != mother["氏名"]
