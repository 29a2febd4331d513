"""The per-child view derived from one household, as of the last day of an assessment month."""

from __future__ import annotations

from datetime import date

import pytest

from mimamori.risk.domain.household import BirthDate, Household, Member, school_grade_on
from mimamori.risk.domain.month import AssessmentMonth

D = AssessmentMonth(2026, 3).last_day  # 2026-03-31


def member(person_id: str, zokugara: str, born: str, *, resident: bool = True, sex: str = "2") -> Member:
    return Member(
        person_id=person_id,
        zokugara=zokugara,
        birth_date=BirthDate.parse(born),
        sex=sex,
        resident=resident,
        dv_support=False,
    )


def household(*members: Member, version: int = 1) -> Household:
    return Household(household_id="h1", setai_code="0000000001", version=version, members=members)


def test_head_as_only_parent_is_single_parent() -> None:
    h = household(member("mother", "世帯主", "1988-05-01"), member("kid", "子", "2015-06-10"))
    child = h.child("kid", as_of=D)
    assert child is not None
    assert child.parent_ids == ("mother",)
    assert child.single_parent
    assert child.age == 10
    assert child.generation == "子"


def test_head_and_wife_are_both_parents() -> None:
    h = household(
        member("father", "世帯主", "1985-01-01", sex="1"),
        member("mother", "妻", "1987-02-02"),
        member("kid", "子", "2016-07-07"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None
    assert child.parent_ids == ("father", "mother")
    assert not child.single_parent


def test_head_and_husband_are_both_parents() -> None:
    h = household(
        member("mother", "世帯主", "1987-02-02"),
        member("father", "夫", "1985-01-01", sex="1"),
        member("kid", "子", "2016-07-07"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == ("mother", "father")


def test_grandchild_parents_are_the_child_and_the_childs_wife_not_the_grandparents() -> None:
    h = household(
        member("grandpa", "世帯主", "1955-01-01", sex="1"),
        member("grandma", "妻", "1957-01-01"),
        member("father", "子", "1984-04-04", sex="1"),
        member("mother", "子の妻", "1986-06-06"),
        member("kid", "孫", "2014-09-09"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None
    assert child.generation == "孫"
    assert child.parent_ids == ("father", "mother")
    assert not child.single_parent


def test_grandchild_with_the_child_and_the_childs_husband() -> None:
    h = household(
        member("grandma", "世帯主", "1957-01-01"),
        member("mother", "子", "1986-06-06"),
        member("father", "子の夫", "1984-04-04", sex="1"),
        member("kid", "孫", "2014-09-09"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == ("mother", "father")


def test_grandchild_with_only_the_child_is_single_parent() -> None:
    h = household(
        member("grandma", "世帯主", "1957-01-01"),
        member("mother", "子", "1990-06-06"),
        member("kid", "孫", "2014-09-09"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == ("mother",) and child.single_parent


def test_parent_under_18_is_not_counted() -> None:
    h = household(
        member("father", "世帯主", "1990-01-01", sex="1"),
        member("young-mother", "妻", "2008-04-01"),  # 17 on 2026-03-31, 18 the next day
        member("baby", "子", "2025-12-01"),
    )
    child = h.child("baby", as_of=D)
    assert child is not None
    assert child.parent_ids == ("father",)
    assert child.single_parent


def test_parent_who_turns_18_on_the_last_day_counts() -> None:
    h = household(
        member("father", "世帯主", "1990-01-01", sex="1"),
        member("mother", "妻", "2008-03-31"),
        member("baby", "子", "2025-12-01"),
    )
    child = h.child("baby", as_of=D)
    assert child is not None and child.parent_ids == ("father", "mother")


def test_the_same_household_changes_with_the_month_as_a_parent_comes_of_age() -> None:
    h = household(
        member("father", "世帯主", "1990-01-01", sex="1"),
        member("mother", "妻", "2008-04-15"),
        member("baby", "子", "2025-12-01"),
    )
    march, april = h.child("baby", as_of=D), h.child("baby", as_of=AssessmentMonth(2026, 4).last_day)
    assert march is not None and march.single_parent
    assert april is not None and not april.single_parent


def test_removed_parent_is_not_counted() -> None:
    h = household(
        member("father", "世帯主", "1985-01-01", sex="1", resident=False),
        member("mother", "妻", "1987-02-02"),
        member("kid", "子", "2016-07-07"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None
    assert child.parent_ids == ("mother",)
    assert child.single_parent


def test_lodger_is_not_a_parent() -> None:
    h = household(
        member("mother", "世帯主", "1988-05-01"),
        member("partner", "同居人", "1986-01-01", sex="1"),
        member("kid", "子", "2015-06-10"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None
    assert child.parent_ids == ("mother",)
    assert child.single_parent


def test_grandparents_of_a_child_generation_are_not_parents() -> None:
    h = household(
        member("mother", "世帯主", "1988-05-01"),
        member("grandma", "母", "1960-01-01"),
        member("kid", "子", "2015-06-10"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == ("mother",)


def test_no_parent_at_all_is_not_single_parent() -> None:
    h = household(
        member("head", "世帯主", "1988-05-01", resident=False),
        member("kid", "子", "2015-06-10"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == () and not child.single_parent


def test_twins_are_not_younger_siblings_but_a_later_born_sibling_is() -> None:
    h = household(
        member("mother", "世帯主", "1988-05-01"),
        member("twin-a", "子", "2014-05-05"),
        member("twin-b", "子", "2014-05-05"),
        member("older", "子", "2012-01-01"),
        member("younger", "子", "2019-11-11"),
    )
    a = h.child("twin-a", as_of=D)
    assert a is not None
    assert a.younger_sibling_ids == ("younger",)
    older = h.child("older", as_of=D)
    assert older is not None and older.younger_sibling_ids == ("twin-a", "twin-b", "younger")
    youngest = h.child("younger", as_of=D)
    assert youngest is not None and youngest.younger_sibling_ids == ()


def test_younger_siblings_are_of_the_same_generation_resident_and_born_by_the_day() -> None:
    h = household(
        member("grandma", "世帯主", "1957-01-01"),
        member("uncle", "子", "2010-01-01"),  # a 子, not a sibling of the 孫
        member("mother", "子", "1990-06-06"),
        member("kid", "孫", "2014-09-09"),
        member("cousin", "孫", "2018-02-02"),
        member("moved-out", "孫", "2019-02-02", resident=False),
        member("unborn", "孫", "2026-04-10"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None
    assert child.younger_sibling_ids == ("cousin",)


def test_adults_removed_members_and_other_relations_are_not_children() -> None:
    h = household(
        member("mother", "世帯主", "1988-05-01"),
        member("grown", "子", "2008-03-31"),  # 18 on D
        member("gone", "子", "2015-01-01", resident=False),
        member("lodger-kid", "同居人", "2015-01-01"),
        member("kid", "子", "2008-04-01"),  # 17 on D
    )
    assert [c.person_id for c in h.children(as_of=D)] == ["kid"]
    assert h.child("grown", as_of=D) is None
    assert h.child("gone", as_of=D) is None
    assert h.child("lodger-kid", as_of=D) is None
    assert h.child("mother", as_of=D) is None
    assert h.child("nobody", as_of=D) is None


def test_children_are_listed_in_birth_order() -> None:
    h = household(
        member("mother", "世帯主", "1988-05-01"),
        member("b", "子", "2019-01-01"),
        member("a", "子", "2012-01-01"),
        member("c", "孫", "2024-01-01"),
    )
    assert [c.person_id for c in h.children(as_of=D)] == ["a", "b", "c"]


def test_child_with_an_unknown_birth_date_is_not_a_child() -> None:
    h = household(member("mother", "世帯主", "1988-05-01"), member("kid", "子", ""))
    assert h.child("kid", as_of=D) is None


def test_partly_unknown_birth_date_of_a_parent_still_proves_adulthood() -> None:
    h = household(
        member("father", "世帯主", "19800000", sex="1"),
        member("mother", "妻", "19000229"),  # not on the calendar: some day in February 1900
        member("kid", "子", "20150610"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == ("father", "mother")


def test_partly_unknown_birth_date_that_straddles_18_is_not_an_adult_parent() -> None:
    h = household(
        member("father", "世帯主", "1985-01-01", sex="1"),
        member("mother", "妻", "20080000"),  # 17 or 18 on 2026-03-31
        member("kid", "子", "2025-06-10"),
    )
    child = h.child("kid", as_of=D)
    assert child is not None and child.parent_ids == ("father",)


@pytest.mark.parametrize(
    ("born", "on", "grade"),
    [
        ("2019-04-02", date(2026, 4, 30), 1),  # 小1 from April 2026
        ("2019-04-01", date(2026, 4, 30), 2),  # 早生まれ: the cohort before
        ("2019-04-02", date(2026, 3, 31), None),  # still pre-school
        ("2011-04-02", date(2027, 3, 31), 9),  # 中3
        ("2011-04-01", date(2027, 3, 31), None),  # left 中学校
    ],
)
def test_school_grade_follows_the_april_cohort(born: str, on: date, grade: int | None) -> None:
    assert school_grade_on(BirthDate.parse(born).earliest or date.min, on) == grade


def test_school_grade_is_reported_for_school_age_children() -> None:
    h = household(member("mother", "世帯主", "1988-05-01"), member("kid", "子", "2015-06-10"))
    child = h.child("kid", as_of=D)
    assert child is not None and child.school_grade == 4


@pytest.mark.parametrize(
    ("raw", "earliest", "latest"),
    [
        ("2015-06-10", date(2015, 6, 10), date(2015, 6, 10)),
        ("20150610", date(2015, 6, 10), date(2015, 6, 10)),
        ("19501200", date(1950, 12, 1), date(1950, 12, 31)),
        ("19500000", date(1950, 1, 1), date(1950, 12, 31)),
        ("19000229", date(1900, 2, 1), date(1900, 2, 28)),
        ("00000000", None, None),
        ("", None, None),
        ("unknown", None, None),
    ],
)
def test_birth_date_bounds_keep_the_raw_value(raw: str, earliest: date | None, latest: date | None) -> None:
    parsed = BirthDate.parse(raw)
    assert (parsed.raw, parsed.earliest, parsed.latest) == (raw, earliest, latest)


def test_age_of_a_29_february_birthday_in_a_common_year() -> None:
    leapling = BirthDate.parse("2008-02-29")
    assert leapling.age_on(date(2026, 2, 28)) == 17
    assert leapling.age_on(date(2026, 3, 1)) == 18
