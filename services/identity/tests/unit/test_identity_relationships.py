from datetime import date

from mimamori.identity.domain.model import SourceDate
from mimamori.identity.domain.relationships import (
    Kinship,
    Member,
    Relationship,
    is_adult,
    is_single_parent,
    kinship,
    parents_by_zokugara,
    parents_of,
    siblings_by_zokugara,
)

D = date(2026, 4, 30)


def born(iso: str) -> SourceDate:
    return SourceDate(raw=iso.replace("-", ""), iso=iso)


def member(person_id: str, zokugara: str, birth: str = "1985-06-01", *, resident: bool = True) -> Member:
    return Member(person_id, zokugara, born(birth), resident)


THREE_GENERATIONS = [
    member("grandpa", "世帯主", "1955-01-01"),
    member("grandma", "妻", "1957-01-01"),
    member("son", "子", "1983-01-01"),
    member("daughter_in_law", "子の妻", "1986-01-01"),
    member("grandchild1", "孫", "2014-05-01"),
    member("grandchild2", "孫", "2017-05-01"),
]


def test_three_generations_grandchild_has_the_son_and_his_wife_as_parents() -> None:
    assert parents_of("grandchild1", THREE_GENERATIONS, on=D) == ("daughter_in_law", "son")
    assert not is_single_parent("grandchild1", THREE_GENERATIONS, on=D)


def test_three_generations_son_has_head_and_wife_as_parents_and_grandparents_are_not_parents() -> None:
    assert parents_by_zokugara("son", THREE_GENERATIONS) == ("grandma", "grandpa")
    assert "grandpa" not in parents_of("grandchild2", THREE_GENERATIONS, on=D)


def test_three_generations_kinship_links_grandparents_and_siblings_in_both_directions() -> None:
    relations = set(kinship(THREE_GENERATIONS))
    assert Relationship("grandchild1", Kinship.GRANDPARENT, "grandpa") in relations
    assert Relationship("grandpa", Kinship.GRANDCHILD, "grandchild1") in relations
    assert Relationship("grandchild1", Kinship.SIBLING, "grandchild2") in relations
    assert Relationship("grandchild2", Kinship.SIBLING, "grandchild1") in relations
    assert Relationship("son", Kinship.CHILD, "grandchild1") in relations
    assert Relationship("grandpa", Kinship.SPOUSE, "grandma") in relations
    # A 子 and a 孫 are not siblings; the 子の妻 is nobody's sibling.
    assert Relationship("son", Kinship.SIBLING, "grandchild1") not in relations
    assert not any(r.person_id == "daughter_in_law" and r.kind is Kinship.SIBLING for r in relations)


def test_grandchild_with_one_child_parent_is_single_parent() -> None:
    household = [
        member("grandma", "世帯主", "1958-01-01"),
        member("mother", "子", "1988-01-01"),
        member("child", "孫", "2015-01-01"),
    ]
    assert parents_of("child", household, on=D) == ("mother",)
    assert is_single_parent("child", household, on=D)


def test_husband_as_spouse_of_a_female_head_is_a_parent() -> None:
    household = [member("mother", "世帯主"), member("father", "夫"), member("child", "子", "2016-01-01")]
    assert parents_of("child", household, on=D) == ("father", "mother")
    assert not is_single_parent("child", household, on=D)


def test_lodger_is_never_a_parent() -> None:
    household = [member("mother", "世帯主"), member("lodger", "同居人"), member("child", "子", "2016-01-01")]
    assert parents_of("child", household, on=D) == ("mother",)
    assert is_single_parent("child", household, on=D)
    assert not any("lodger" in (r.person_id, r.relative_id) for r in kinship(household))


def test_removed_parent_is_not_counted() -> None:
    household = [
        member("mother", "世帯主"),
        member("father", "夫", resident=False),
        member("child", "子", "2016-01-01"),
    ]
    assert parents_by_zokugara("child", household) == ("father", "mother")
    assert parents_of("child", household, on=D) == ("mother",)
    assert is_single_parent("child", household, on=D)


def test_parent_under_eighteen_on_the_day_is_not_counted() -> None:
    household = [
        member("grandma", "世帯主", "1975-01-01"),
        member("young_mother", "子", "2008-05-01"),
        member("baby", "孫", "2025-12-01"),
    ]
    assert parents_of("baby", household, on=date(2026, 4, 30)) == ()
    assert parents_of("baby", household, on=date(2026, 5, 1)) == ("young_mother",)


def test_no_parent_and_two_parents_are_not_single_parent() -> None:
    orphan = [member("brother", "世帯主", "2000-01-01"), member("child", "弟", "2014-01-01")]
    assert parents_of("child", orphan, on=D) == ()
    assert not is_single_parent("child", orphan, on=D)
    assert siblings_by_zokugara("child", orphan) == ("brother",)


def test_parents_of_the_head_are_parents_of_the_heads_siblings() -> None:
    household = [
        member("head", "世帯主", "1990-01-01"),
        member("mum", "母", "1965-01-01"),
        member("sister", "妹", "2012-01-01"),
    ]
    assert parents_of("sister", household, on=D) == ("mum",)
    assert parents_of("head", household, on=D) == ("mum",)


def test_wifes_father_is_the_wifes_parent_and_the_childrens_grandparent() -> None:
    household = [
        member("head", "世帯主"),
        member("wife", "妻"),
        member("wifes_father", "妻の父", "1950-01-01"),
        member("child", "子", "2016-01-01"),
    ]
    relations = set(kinship(household))
    assert Relationship("wife", Kinship.PARENT, "wifes_father") in relations
    assert Relationship("head", Kinship.PARENT, "wifes_father") not in relations
    assert Relationship("child", Kinship.GRANDPARENT, "wifes_father") in relations
    assert parents_of("child", household, on=D) == ("head", "wife")


def test_children_are_siblings_of_each_other_only() -> None:
    household = [
        member("head", "世帯主"),
        member("a", "子", "2012-01-01"),
        member("b", "子", "2014-01-01"),
        member("lodger_child", "同居人", "2013-01-01"),
    ]
    assert siblings_by_zokugara("a", household) == ("b",)
    assert siblings_by_zokugara("lodger_child", household) == ()


def test_partly_unknown_birth_date_counts_at_its_latest_possible_day() -> None:
    assert is_adult(SourceDate(raw="19500000"), on=D)
    assert is_adult(SourceDate(raw="20080400"), on=date(2026, 4, 30))
    assert not is_adult(SourceDate(raw="20080400"), on=date(2026, 4, 29))
    assert is_adult(SourceDate(raw="19000229"), on=D)
    assert not is_adult(SourceDate(raw=""), on=D)
