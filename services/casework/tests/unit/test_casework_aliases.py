"""identity's merges as casework follows them: resolved through chains, undone exactly, duplicates of open cases."""

from __future__ import annotations

from mimamori.casework.domain.aliases import Merge, apply_merge, apply_unmerge, duplicate_open, resolve

A_INTO_B = Merge("a", "b", "m1")
B_INTO_C = Merge("b", "c", "m2")


def test_a_merged_person_resolves_to_the_survivor_and_chains_are_followed() -> None:
    assert resolve([A_INTO_B]) == {"a": "b"}
    assert resolve([A_INTO_B, B_INTO_C]) == {"a": "c", "b": "c"}
    assert resolve([]) == {}


def test_a_cycle_stops_instead_of_looping() -> None:
    roots = resolve([Merge("a", "b", "m1"), Merge("b", "a", "m2")])
    assert set(roots) == {"a", "b"}


def test_unmerging_the_later_merge_of_a_chain_gives_back_the_state_before_it() -> None:
    before = apply_merge([], A_INTO_B)
    after = apply_unmerge(apply_merge(before, B_INTO_C), restored="b", merge_id="m2")
    assert after == before
    assert resolve(after) == {"a": "b"}


def test_unmerging_the_earlier_merge_of_a_chain_leaves_the_later_one() -> None:
    after = apply_unmerge([A_INTO_B, B_INTO_C], restored="a", merge_id="m1")
    assert resolve(after) == {"b": "c"}


def test_a_repeated_merge_or_unmerge_changes_nothing() -> None:
    once = apply_merge([], A_INTO_B)
    assert apply_merge(once, A_INTO_B) == once
    undone = apply_unmerge(once, restored="a", merge_id="m1")
    assert apply_unmerge(undone, restored="a", merge_id="m1") == undone == []


def test_an_unmerge_of_another_merge_of_the_person_changes_nothing() -> None:
    assert apply_unmerge([A_INTO_B], restored="a", merge_id="m-other") == [A_INTO_B]


def test_open_cases_of_one_child_after_a_merge_are_both_flagged() -> None:
    open_cases = [("case-a", "a"), ("case-b", "b"), ("case-x", "x")]
    assert duplicate_open(open_cases, roots={"a": "b"}) == {"case-a", "case-b"}
    assert duplicate_open(open_cases, roots={}) == set()
    assert duplicate_open([("case-a", "a"), ("case-c", "c")], roots={"a": "c", "b": "c"}) == {"case-a", "case-c"}
