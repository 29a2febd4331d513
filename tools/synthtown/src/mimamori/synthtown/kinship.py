"""Who is whose parent or sibling, read from 続柄 the way the domain rule reads it."""

from __future__ import annotations

from datetime import date

from mimamori.synthtown.model import Person

_PARENT_RELATIONS: dict[str, tuple[str, ...]] = {
    "子": ("世帯主", "妻", "夫"),
    "孫": ("子", "子の妻"),
}


def parents_of(child: Person, *, on: date) -> list[Person]:
    """Adults (18+) of the child's household who are the child's father or mother by 続柄.

    In a grandparent-headed home a 子 may be the parent of several 孫; the synthetic town puts only
    one 子 generation couple in such homes, so every adult 子 or 子の妻 there is a parent of the 孫.
    """
    household = child.household
    if household is None or child.removed:
        return []
    relations = _PARENT_RELATIONS.get(child.relation, ())
    return [
        member
        for member in household.members
        if member.relation in relations and member is not child and member.age(on) >= 18
    ]


def siblings_of(child: Person) -> list[Person]:
    """Other members of the same household in the same generation (子 with 子, 孫 with 孫)."""
    household = child.household
    if household is None or child.relation not in _PARENT_RELATIONS:
        return []
    return [
        member for member in household.members if member is not child and member.relation == child.relation
    ]


def minor_children(parent: Person, *, on: date) -> list[Person]:
    """The household's 子/孫 under 18 whose parents (by 続柄) include `parent`."""
    household = parent.household
    if household is None:
        return []
    return [
        member
        for member in household.members
        if member.relation in _PARENT_RELATIONS
        and member.age(on) < 18
        and parent in parents_of(member, on=on)
    ]


def guardian_of(child: Person, *, on: date) -> Person | None:
    """The 保護者 a school or benefit office writes down: a parent, else the head of household."""
    parents = parents_of(child, on=on)
    if parents:
        return parents[0]
    household = child.household
    if household is None or not household.members:
        return None
    head = household.head
    return None if head is child else head
