from mimamori.identity.domain.household import (
    Household,
    MemberFacts,
    compose_members,
    membership_change,
)
from mimamori.identity.domain.model import SourceDate


def facts(person_id: str, zokugara: str, birth: str, **changes: object) -> MemberFacts:
    values: dict[str, object] = {
        "person_id": person_id,
        "zokugara": zokugara,
        "sex": "2",
        "birth_date": SourceDate(birth, ""),
        "resident": True,
        "dv_support": False,
    }
    values.update(changes)
    return MemberFacts(**values)  # type: ignore[arg-type]


FAMILY = [facts("c", "子", "20150101"), facts("m", "世帯主", "19880101"), facts("f", "夫", "19860101")]


def test_members_are_announced_head_first_with_parents_and_siblings() -> None:
    members = compose_members([*FAMILY, facts("d", "子", "20170101")])
    assert [m.person_id for m in members] == ["m", "f", "c", "d"]
    child = members[2]
    assert (child.is_head, child.parent_person_ids, child.sibling_person_ids) == (False, ("f", "m"), ("d",))
    assert members[0].is_head


def test_same_membership_in_another_order_is_no_change() -> None:
    assert membership_change(compose_members(FAMILY), compose_members(reversed(FAMILY))) is None


def test_a_member_joining_and_another_leaving_are_named() -> None:
    before = compose_members(FAMILY)
    after = compose_members([*FAMILY[:2], facts("g", "母", "19600101")])
    change = membership_change(before, after)
    assert change is not None
    assert (change.joined, change.left) == (("g",), ("f",))
    # Derived facts change too: the child lost a parent, the head gained one (the new 母).
    assert change.changed == ("c", "m")


def test_a_relevant_fact_of_a_member_is_a_change() -> None:
    before = compose_members(FAMILY)
    for changed in (
        facts("c", "子", "20150101", resident=False),
        facts("c", "子", "20150101", dv_support=True),
        facts("c", "孫", "20150101"),
        facts("c", "子", "20150102"),
    ):
        after = compose_members([changed, *FAMILY[1:]])
        change = membership_change(before, after)
        assert change is not None and change.changed == ("c",), changed


def test_household_version_advances_only_on_a_change() -> None:
    household = Household.new("0000000001")
    first = household.revise(compose_members(FAMILY))
    assert first is not None
    announced, change = first
    assert (announced.version, change.joined) == (1, ("c", "f", "m"))
    assert announced.revise(compose_members(FAMILY)) is None
    second = announced.revise(compose_members(FAMILY[:2]))
    assert second is not None and second[0].version == 2 and second[1].left == ("f",)


def test_an_emptied_household_is_announced_empty() -> None:
    announced = Household.new("0000000001").revise(compose_members(FAMILY))
    assert announced is not None
    emptied = announced[0].revise(())
    assert emptied is not None and emptied[0].members == () and set(emptied[1].left) == {"c", "f", "m"}


def test_an_announcement_is_as_of_the_delivery_month_and_a_merge_keeps_it() -> None:
    first = Household.new("0000000001").revise(compose_members(FAMILY), month="202604")
    assert first is not None and first[0].month == "202604"
    moved = first[0].revise(compose_members(FAMILY[:2]), month="202606")
    assert moved is not None and (moved[0].version, moved[0].month) == (2, "202606")
    # a merge re-announces with no delivery: the membership stays as of the month last announced
    merged = moved[0].revise(compose_members(FAMILY[:1]))
    assert merged is not None and (merged[0].version, merged[0].month) == (3, "202606")
    assert moved[0].revise(compose_members(FAMILY[:2]), month="202607") is None
