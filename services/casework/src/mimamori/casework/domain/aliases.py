"""Persons identity merged (名寄せの統合): each merge is an edge merged → surviving, kept as announced, so undoing one
removes exactly that edge. Reads follow the edges to the person a merged id now is (its root); cases and
見守り情報 keep the person id they were recorded under."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Merge:
    """One merge as identity announced it."""

    merged_person_id: str
    surviving_person_id: str
    merge_id: str


def resolve(merges: Iterable[Merge]) -> dict[str, str]:
    """Merged person → the person they now are, following chains (A into B, then B into C: A is C). A cycle,
    which identity does not allow, stops at the person where it closes instead of looping."""
    into = {m.merged_person_id: m.surviving_person_id for m in merges}
    roots: dict[str, str] = {}
    for merged in into:
        seen = {merged}
        person = into[merged]
        while person in into and into[person] not in seen:
            seen.add(person)
            person = into[person]
        roots[merged] = person
    return roots


def apply_merge(merges: Iterable[Merge], merge: Merge) -> list[Merge]:
    """The merges after one more (a repeated one replaces itself: merging is idempotent per merged person)."""
    return [*(m for m in merges if m.merged_person_id != merge.merged_person_id), merge]


def apply_unmerge(merges: Iterable[Merge], *, restored: str, merge_id: str) -> list[Merge]:
    """The merges after one is undone; an unmerge of a merge not held (repeated, or of another merge) changes
    nothing."""
    return [m for m in merges if not (m.merged_person_id == restored and m.merge_id == merge_id)]


def duplicate_open(open_cases: Iterable[tuple[str, str]], *, roots: Mapping[str, str]) -> set[str]:
    """Of open cases (case id, person id), those that share their person with another open case once merges
    are followed: a merge can leave one child with two open cases, which staff then decide about."""
    cases = list(open_cases)
    per_person = Counter(roots.get(person, person) for _, person in cases)
    return {case_id for case_id, person in cases if per_person[roots.get(person, person)] > 1}
