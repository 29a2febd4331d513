"""Relationships within a household, derived from each member's 続柄 (zokugara: relation to the 世帯主, head).

続柄 says how each member relates to the head only, so kinship between two other members is inferred from
their positions: the head's 子 are the children of the head and of the head's 妻/夫; a 孫 is the child of
the 子 and 子の妻/夫 living there (the town's rule, read literally even when several 子 live in the home).
Members whose 続柄 states no kinship (同居人, 縁故者, 他, or an unknown value) are nobody's relatives.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from mimamori.identity.domain.model import SourceDate

ADULT_AGE = 18


class Position(enum.StrEnum):
    """Where a 続柄 places a member in the family tree around the head."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    CHILD_SPOUSE = "child_spouse"
    GRANDCHILD = "grandchild"
    PARENT = "parent"
    SPOUSE_PARENT = "spouse_parent"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    NONE = "none"


POSITIONS: dict[str, Position] = {
    "世帯主": Position.HEAD,
    "妻": Position.SPOUSE,
    "夫": Position.SPOUSE,
    "子": Position.CHILD,
    "子の妻": Position.CHILD_SPOUSE,
    "子の夫": Position.CHILD_SPOUSE,
    "孫": Position.GRANDCHILD,
    "父": Position.PARENT,
    "母": Position.PARENT,
    "妻の父": Position.SPOUSE_PARENT,
    "妻の母": Position.SPOUSE_PARENT,
    "夫の父": Position.SPOUSE_PARENT,
    "夫の母": Position.SPOUSE_PARENT,
    "祖父": Position.GRANDPARENT,
    "祖母": Position.GRANDPARENT,
    "兄": Position.SIBLING,
    "姉": Position.SIBLING,
    "弟": Position.SIBLING,
    "妹": Position.SIBLING,
}

# Whose father or mother each position is, by 続柄 (child's position → the parents' positions).
PARENT_POSITIONS: dict[Position, tuple[Position, ...]] = {
    Position.CHILD: (Position.HEAD, Position.SPOUSE),
    Position.GRANDCHILD: (Position.CHILD, Position.CHILD_SPOUSE),
    Position.HEAD: (Position.PARENT,),
    Position.SIBLING: (Position.PARENT,),
    Position.SPOUSE: (Position.SPOUSE_PARENT,),
}

# Grandparents by 続柄 (grandchild's position → the grandparents' positions). 祖父/祖母 are the head's
# grandparents; whether through the 父 or the 母 is unknown, so they are nobody's parent here.
GRANDPARENT_POSITIONS: dict[Position, tuple[Position, ...]] = {
    Position.GRANDCHILD: (Position.HEAD, Position.SPOUSE),
    Position.CHILD: (Position.PARENT, Position.SPOUSE_PARENT),
    Position.HEAD: (Position.GRANDPARENT,),
    Position.SIBLING: (Position.GRANDPARENT,),
}

# Positions of one generation whose members are brothers and sisters of each other.
SIBLING_GROUPS: tuple[frozenset[Position], ...] = (
    frozenset({Position.CHILD}),
    frozenset({Position.GRANDCHILD}),
    frozenset({Position.HEAD, Position.SIBLING}),
)


class Kinship(enum.StrEnum):
    """What a relative is to a person."""

    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    SPOUSE = "spouse"


INVERSE: dict[Kinship, Kinship] = {
    Kinship.PARENT: Kinship.CHILD,
    Kinship.CHILD: Kinship.PARENT,
    Kinship.SIBLING: Kinship.SIBLING,
    Kinship.GRANDPARENT: Kinship.GRANDCHILD,
    Kinship.GRANDCHILD: Kinship.GRANDPARENT,
    Kinship.SPOUSE: Kinship.SPOUSE,
}


@dataclass(frozen=True, slots=True)
class Member:
    """What the relationship rules need to know of a household member."""

    person_id: str
    zokugara: str
    birth_date: SourceDate = field(default_factory=SourceDate)
    resident: bool = True

    @property
    def position(self) -> Position:
        """The member's place around the head."""
        return POSITIONS.get(self.zokugara.strip(), Position.NONE)


def is_head(zokugara: str) -> bool:
    """Whether a 続柄 is the 世帯主's own."""
    return POSITIONS.get(zokugara.strip()) is Position.HEAD


@dataclass(frozen=True, slots=True, order=True)
class Relationship:
    """`relative_id` is the `kind` of `person_id` (e.g. the relative is the person's parent)."""

    person_id: str
    kind: Kinship
    relative_id: str


def _is_parent_by_zokugara(parent: Member, child: Member) -> bool:
    if parent.person_id == child.person_id or parent.position not in PARENT_POSITIONS.get(child.position, ()):
        return False
    if parent.position is Position.SPOUSE_PARENT:
        # 妻の父 is the 妻's father, not the 夫's.
        return parent.zokugara.strip().startswith(child.zokugara.strip() + "の")
    return True


def parents_by_zokugara(person_id: str, members: Sequence[Member]) -> tuple[str, ...]:
    """The person's father and mother in the household by 続柄, before any condition of age or residence."""
    child = _find(person_id, members)
    if child is None:
        return ()
    return tuple(sorted(m.person_id for m in members if _is_parent_by_zokugara(m, child)))


def siblings_by_zokugara(person_id: str, members: Sequence[Member]) -> tuple[str, ...]:
    """The person's brothers and sisters by 続柄: same generation (子 with 子, 孫 with 孫)."""
    person = _find(person_id, members)
    if person is None:
        return ()
    group = next((g for g in SIBLING_GROUPS if person.position in g), None)
    if group is None:
        return ()
    return tuple(sorted(m.person_id for m in members if m.person_id != person_id and m.position in group))


def grandparents_by_zokugara(person_id: str, members: Sequence[Member]) -> tuple[str, ...]:
    """The person's grandparents in the household by 続柄."""
    person = _find(person_id, members)
    if person is None:
        return ()
    wanted = GRANDPARENT_POSITIONS.get(person.position, ())
    return tuple(sorted(m.person_id for m in members if m.person_id != person_id and m.position in wanted))


def kinship(members: Sequence[Member]) -> list[Relationship]:
    """Every relationship between members of one household, in both directions, sorted."""
    found: set[Relationship] = set()

    def add(person_id: str, kind: Kinship, relative_id: str) -> None:
        found.add(Relationship(person_id, kind, relative_id))
        found.add(Relationship(relative_id, INVERSE[kind], person_id))

    for member in members:
        for parent_id in parents_by_zokugara(member.person_id, members):
            add(member.person_id, Kinship.PARENT, parent_id)
        for grandparent_id in grandparents_by_zokugara(member.person_id, members):
            add(member.person_id, Kinship.GRANDPARENT, grandparent_id)
        for sibling_id in siblings_by_zokugara(member.person_id, members):
            add(member.person_id, Kinship.SIBLING, sibling_id)
    heads = [m for m in members if m.position is Position.HEAD]
    spouses = [m for m in members if m.position is Position.SPOUSE]
    if len(heads) == 1:
        for spouse in spouses:
            add(heads[0].person_id, Kinship.SPOUSE, spouse.person_id)
    return sorted(found)


def age_on(birth: date, day: date) -> int:
    """Completed years of age on a day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_adult(birth_date: SourceDate, *, on: date) -> bool:
    """Whether the person is certainly 18 or older on the day (a partly unknown date counts at its latest)."""
    latest = birth_date.latest_possible()
    return latest is not None and age_on(latest, on) >= ADULT_AGE


def parents_of(person_id: str, members: Sequence[Member], *, on: date) -> tuple[str, ...]:
    """The town's parents of a child on day D: father or mother by 続柄, here, 18 or older, resident."""
    by_id = {m.person_id: m for m in members}
    return tuple(
        parent_id
        for parent_id in parents_by_zokugara(person_id, members)
        if by_id[parent_id].resident and is_adult(by_id[parent_id].birth_date, on=on)
    )


def is_single_parent(person_id: str, members: Sequence[Member], *, on: date) -> bool:
    """ひとり親 (single parent): the child has exactly one parent on day D."""
    return len(parents_of(person_id, members, on=on)) == 1


def _find(person_id: str, members: Iterable[Member]) -> Member | None:
    return next((m for m in members if m.person_id == person_id), None)
