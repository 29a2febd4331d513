"""Matching: normalisation for matching only, blocking, grades and their reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mimamori.identity.domain.matching import (
    Reference,
    Resident,
    ResidentIndex,
    SourceRow,
    grade_reference,
    link_references,
    resolve_batch,
)
from mimamori.identity.domain.model import MatchGrade
from mimamori.identity.domain.normalise import address_key, kana_key, municipality_of, name_key


@pytest.mark.parametrize(
    ("legal", "typed"),
    [
        ("髙橋　花子", "高橋 花子"),
        ("山﨑　太郎", "山崎太郎"),
        ("渡邊　実", "渡辺　実"),
        ("渡邉　実", "渡辺 実"),
        ("齋藤　拓也", "斎藤　拓也"),
        ("齊藤　拓也", "斎藤拓也"),
        ("濵田　恵", "浜田　恵"),
        ("濱田　恵", "浜田 恵"),
        ("德永　心春", "徳永 心春"),
        ("冨田　美穂", "富田　美穂 "),
        ("小澤　實", "小沢 実"),
    ],
)
def test_variant_characters_and_spaces_fold_to_one_name_key(legal: str, typed: str) -> None:
    assert name_key(legal) == name_key(typed)


def test_kana_scripts_and_widths_agree() -> None:
    assert kana_key("ﾔﾏﾀﾞ ﾊﾅｺ") == kana_key("やまだ はなこ") == kana_key("ヤマダ　ハナコ")


@pytest.mark.parametrize(
    "typed",
    [
        "神奈川県足柄上郡開成町延沢１２３番地の４　メゾン開成１０１",
        "開成町延沢123-4",
        "足柄上郡開成町延沢123-4 メゾン開成101",
        "神奈川県開成町延沢１２３－４",
        "開成町延沢123番4号",
    ],
)
def test_address_styles_fold_to_one_key(typed: str) -> None:
    assert address_key(typed) == "開成町延沢123-4"


def test_an_address_in_another_town_names_that_town() -> None:
    assert municipality_of("南足柄市関本351-19") == "南足柄市"
    assert municipality_of("神奈川県足柄上郡開成町延沢１２３番地") == "開成町"


def _resident(pid: str, name: str, kana: str, birth: str, **extra: str) -> Resident:
    return Resident(
        person_id=pid,
        atena_no=extra.get("atena", ""),
        names=(name, *([extra["former"]] if "former" in extra else [])),
        kanas=(kana,),
        sex=extra.get("sex", "2"),
        birth_raw=birth.replace("-", ""),
        birth_iso=birth,
        address=extra.get("address", "神奈川県足柄上郡開成町延沢１２３番地の４"),
        setai_code=extra.get("setai", "S1"),
    )


TWINS = [
    _resident("a", "冨田　莉子", "ﾄﾐﾀ ﾘｺ", "2014-07-21", setai="S1"),
    _resident("b", "冨田　結衣", "ﾄﾐﾀ ﾕｲ", "2014-07-21", setai="S1"),
    _resident("mother", "冨田　恵", "ﾄﾐﾀ ﾒｸﾞﾐ", "1984-01-02", setai="S1"),
]


def test_each_twin_links_certain_by_name_and_never_to_the_other() -> None:
    answers = link_references(
        TWINS,
        [
            Reference(role="child", name="富田　莉子", name_kana="とみた りこ", sex="女", birth_iso="2014-07-21"),
            Reference(role="child", name="富田結衣", birth_iso="2014-07-21"),
        ],
    )
    assert [a.linked for a in answers] == ["a", "b"]
    assert answers[0].grade is MatchGrade.CERTAIN
    assert "name" in answers[0].reason and "birth" in answers[0].reason


def test_namesakes_born_on_one_day_are_never_linked_automatically() -> None:
    index = ResidentIndex(
        [
            _resident("x", "冨田　心春", "ﾄﾐﾀ ｺﾊﾙ", "2012-12-26", setai="S1", address="開成町延沢1-1"),
            _resident("y", "冨田　心春", "ﾄﾐﾀ ｺﾊﾙ", "2012-12-26", setai="S2", address="開成町宮台9-9"),
        ]
    )
    blind = grade_reference(Reference(name="富田　心春", birth_iso="2012-12-26"), index)
    assert blind.linked is None and blind.grade is MatchGrade.PROBABLE and set(blind.proposed) == {"x", "y"}
    placed = grade_reference(Reference(name="富田　心春", birth_iso="2012-12-26", address="開成町宮台9-9"), index)
    assert placed.linked is None and placed.person_id == "y" and placed.grade is MatchGrade.PROBABLE


def test_a_guardian_named_without_birth_date_is_certain_within_the_childs_household() -> None:
    others = [*TWINS, _resident("other", "冨田　恵", "ﾄﾐﾀ ﾒｸﾞﾐ", "1990-05-05", setai="S9")]
    row = SourceRow(
        key="r1",
        source="koumu_meibo",
        references=(
            Reference(role="child", name="冨田　莉子", birth_iso="2014-07-21", school_code="B1", student_no="7"),
            Reference(role="guardian", name="富田　恵"),
        ),
    )
    child, guardian = resolve_batch(others, [row])["r1"]
    assert child.linked == "a"
    assert guardian.linked == "mother" and "household" in guardian.reason


def test_a_name_only_reference_without_context_waits_for_review() -> None:
    residents = [
        _resident("p", "中村　麻衣", "ﾅｶﾑﾗ ﾏｲ", "1973-04-01"),
        _resident("q", "中村　麻衣", "ﾅｶﾑﾗ ﾏｲ", "1984-07-18"),
    ]
    (answer,) = link_references(residents, [Reference(role="consulter", name="中村　麻衣")])
    assert answer.linked is None and answer.needs_review


def test_a_gaiji_name_is_matched_on_the_other_fields() -> None:
    residents = [_resident("g", "\ue000木　大輔", "ﾀｶｷﾞ ﾀﾞｲｽｹ", "1973-03-15", sex="1")]
    answers = link_references(
        residents,
        [Reference(name="高木大輔", birth_iso="1973-03-15", sex="男"), Reference(role="consulter", name="高木大輔")],
    )
    assert answers[0].linked == "g" and "gaiji_name" in answers[0].reason
    assert answers[1].proposed == ("g",) and answers[1].linked is None


def test_a_former_name_still_finds_the_person() -> None:
    residents = [_resident("m", "木村　智子", "ｷﾑﾗ ﾄﾓｺ", "1983-07-27", former="佐藤　智子")]
    (answer,) = link_references(residents, [Reference(name="佐藤 智子", birth_iso="1983-07-27")])
    assert answer.linked == "m" and "former_name" in answer.reason


def test_a_given_name_in_hiragana_matches_the_kana_of_the_register() -> None:
    residents = [_resident("c", "山本　蒼", "ﾔﾏﾓﾄ ｱｵｲ", "2023-10-12")]
    (answer,) = link_references(residents, [Reference(name="山本　あおい", birth_iso="2023-10-12")])
    assert answer.linked == "c" and "kana_given" in answer.reason


def test_a_child_from_another_town_links_to_nobody() -> None:
    residents = [
        _resident("r", "石川　澪", "ｲｼｶﾜ ﾐｵ", "2017-04-06"),
        _resident("s", "鈴木　一郎", "ｽｽﾞｷ ｲﾁﾛｳ", "1970-01-01"),
    ]
    (answer,) = link_references(
        residents,
        [Reference(name="石川　澪", name_kana="いしかわ みお", birth_iso="2017-04-06", address="南足柄市関本351-19")],
    )
    assert answer.linked is None and not answer.needs_review and answer.reason == "address_outside_town"


def test_a_different_sex_or_birth_date_is_not_certain() -> None:
    residents = [_resident("a", "冨田　莉子", "ﾄﾐﾀ ﾘｺ", "2014-07-21")]
    answers = link_references(
        residents,
        [
            Reference(name="冨田　莉子", birth_iso="2014-07-21", sex="男"),
            Reference(name="冨田　莉子", birth_iso="2014-07-12"),
            Reference(name="冨田　莉子", birth_iso="2001-01-01"),
        ],
    )
    assert [a.linked for a in answers] == [None, None, None]
    assert answers[1].grade is MatchGrade.PROBABLE and answers[1].person_id == "a"


def test_a_rejected_person_is_never_proposed_again() -> None:
    index = ResidentIndex([_resident("a", "冨田　莉子", "ﾄﾐﾀ ﾘｺ", "2014-07-21")])
    ref = Reference(name="冨田　莉子", birth_iso="2014-07-21")
    assert grade_reference(ref, index).linked == "a"
    again = grade_reference(ref, index, rejected=frozenset({"a"}))
    assert again.person_id is None and "a" not in again.proposed


def test_after_a_rejection_the_remaining_namesake_waits_for_review() -> None:
    index = ResidentIndex(
        [
            _resident("x", "冨田　心春", "ﾄﾐﾀ ｺﾊﾙ", "2012-12-26", setai="S1"),
            _resident("y", "冨田　心春", "ﾄﾐﾀ ｺﾊﾙ", "2012-12-26", setai="S2"),
        ]
    )
    answer = grade_reference(Reference(name="冨田　心春", birth_iso="2012-12-26"), index, rejected=frozenset({"x"}))
    assert answer.linked is None and answer.proposed == ("y",) and answer.reason.endswith("after_rejection")


def test_attendance_by_pupil_key_resolves_through_the_roll_of_the_month_or_the_latest() -> None:
    roll = SourceRow(
        key="roll",
        source="koumu_meibo",
        month="202605",
        references=(Reference(name="冨田　莉子", birth_iso="2014-07-21", school_code="B1", student_no="7"),),
    )
    same = SourceRow(
        key="s", source="koumu_shusseki", month="202605", references=(Reference(school_code="B1", student_no="7"),)
    )
    later = SourceRow(
        key="l", source="koumu_shusseki", month="202606", references=(Reference(school_code="B1", student_no="7"),)
    )
    unknown = SourceRow(
        key="u", source="koumu_shusseki", month="202605", references=(Reference(school_code="B1", student_no="8"),)
    )
    answers = resolve_batch(TWINS, [same, later, unknown, roll])
    assert answers["s"][0].linked == "a" and answers["l"][0].linked == "a"
    assert answers["u"][0].linked is None and answers["u"][0].waiting_for == "pupil:B1/8"


def test_an_unknown_atena_no_waits_for_the_person() -> None:
    row = SourceRow(key="k", source="hoiku", references=(Reference(role="child", atena_no="0010000009"),))
    (answer,) = resolve_batch(TWINS, [row])["k"]
    assert answer.linked is None and answer.waiting_for == "atena:0010000009"


HOME = "開成町延沢123-4"


def test_a_child_whose_family_name_changed_is_offered_for_review_never_linked() -> None:
    residents = [
        _resident("c", "佐藤　陽菜", "ｻﾄｳ ﾋﾅ", "2015-06-02"),
        _resident("other", "鈴木　陽菜", "ｽｽﾞｷ ﾋﾅ", "2015-06-03"),
    ]
    (answer,) = link_references(
        residents,
        [Reference(name="鈴木　陽菜", name_kana="すずき ひな", sex="女", birth_iso="2015-06-02", address=HOME)],
    )
    assert answer.linked is None and answer.grade is MatchGrade.PROBABLE
    assert "c" in answer.proposed and "given" in " ".join(e.reason for e in answer.candidates)


def test_a_kana_or_birth_date_typo_is_certain_only_with_name_sex_and_address_agreeing() -> None:
    residents = [_resident("k", "高橋　大翔", "ﾀｶﾊｼ ﾋﾛﾄ", "2013-03-31", sex="1")]
    kana_typo = Reference(name="髙橋　大翔", name_kana="たかはし ひろど", sex="男", birth_iso="2013-03-31")
    date_typo = Reference(name="高橋　大翔", name_kana="たかはし ひろと", sex="男", birth_iso="2013-04-01")
    answers = link_references(
        residents,
        [
            replace(kana_typo, address=HOME),
            replace(date_typo, address=HOME),
            kana_typo,
            date_typo,
            replace(date_typo, address="開成町宮台9-9"),
        ],
    )
    assert [a.linked for a in answers] == ["k", "k", None, None, None]
    assert "kana_near" in answers[0].reason and "birth_near" in answers[1].reason
    assert all(a.grade is MatchGrade.PROBABLE and a.proposed == ("k",) for a in answers[2:])


def test_a_typo_match_beside_an_exact_one_is_not_linked() -> None:
    residents = [
        _resident("exact", "高橋　大翔", "ﾀｶﾊｼ ﾋﾛﾄ", "2013-03-31", sex="1"),
        _resident("typo", "高橋　大翔", "ﾀｶﾊｼ ﾋﾛﾄ", "2013-04-01", sex="1"),
    ]
    ref = Reference(name="高橋　大翔", name_kana="たかはし ひろと", sex="男", birth_iso="2013-03-31", address=HOME)
    (answer,) = link_references(residents, [ref])
    assert answer.linked is None and set(answer.proposed) <= {"exact", "typo"} and answer.needs_review


def test_a_swapped_sex_with_everything_else_agreeing_is_offered_for_review() -> None:
    residents = [_resident("s", "冨田　莉子", "ﾄﾐﾀ ﾘｺ", "2014-07-21", sex="2")]
    (answer,) = link_references(
        residents,
        [Reference(name="冨田　莉子", name_kana="とみた りこ", sex="男", birth_iso="2014-07-21", address=HOME)],
    )
    assert answer.linked is None and answer.grade is MatchGrade.PROBABLE and answer.proposed == ("s",)
    assert "sex_differs" in answer.reason


def test_other_kanji_of_the_same_reading_are_certain_by_kana_unless_a_twin_is_named_alike() -> None:
    alone = [_resident("m", "増田　湊", "ﾏｽﾀﾞ ﾐﾅﾄ", "2016-05-10", sex="1")]
    twins = [*alone, _resident("t", "増田　湊斗", "ﾏｽﾀﾞ ﾐﾅﾄ", "2016-05-10", sex="1")]
    typed = Reference(name="増田　港", name_kana="ますだ みなと", sex="男", birth_iso="2016-05-10", address=HOME)
    exact = replace(typed, name="増田　湊")
    (by_kana,) = link_references(alone, [typed])
    assert by_kana.linked == "m" and by_kana.reason.startswith("kana")
    blind, named = link_references(twins, [typed, exact])
    assert blind.linked is None and set(blind.proposed) == {"m", "t"}
    assert named.linked == "m"  # the very kanji at the address outweighs a twin's other kanji of one reading
