"""Households (世帯, by 世帯コード): who is in one now, what others are told of it, and when."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from mimamori.identity.domain.model import SourceDate, SourceRecord
from mimamori.identity.domain.relationships import Member, is_head, parents_by_zokugara, siblings_by_zokugara


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """One member's facts as the household's current source records state them."""

    person_id: str
    zokugara: str
    sex: str
    birth_date: SourceDate
    resident: bool
    dv_support: bool

    @classmethod
    def of(cls, record: SourceRecord, person_id: str) -> MemberFacts:
        """The facts a person's current record states."""
        v = record.values
        return cls(
            person_id=person_id,
            zokugara=v.zokugara,
            sex=v.sex,
            birth_date=v.birth_date,
            resident=record.resident,
            dv_support=v.dv_support,
        )


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """A member as announced to other services: the facts and the relationships derived from 続柄."""

    person_id: str
    zokugara: str
    sex: str
    birth_date: SourceDate
    resident: bool
    dv_support: bool
    is_head: bool
    parent_person_ids: tuple[str, ...]
    sibling_person_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """How a household's announced membership differs from the last announcement."""

    joined: tuple[str, ...]
    left: tuple[str, ...]
    changed: tuple[str, ...]


def compose_members(facts: Iterable[MemberFacts]) -> tuple[HouseholdMember, ...]:
    """The announced membership: one entry per person, relationships derived, head first, then by birth."""
    unique = {f.person_id: f for f in facts}
    related = [Member(f.person_id, f.zokugara, f.birth_date, f.resident) for f in unique.values()]
    members = [
        HouseholdMember(
            person_id=f.person_id,
            zokugara=f.zokugara,
            sex=f.sex,
            birth_date=f.birth_date,
            resident=f.resident,
            dv_support=f.dv_support,
            is_head=is_head(f.zokugara),
            parent_person_ids=parents_by_zokugara(f.person_id, related),
            sibling_person_ids=siblings_by_zokugara(f.person_id, related),
        )
        for f in unique.values()
    ]
    return tuple(sorted(members, key=lambda m: (not m.is_head, m.birth_date.raw, m.person_id)))


def membership_change(
    previous: Iterable[HouseholdMember], current: Iterable[HouseholdMember]
) -> MembershipChange | None:
    """What changed since the last announcement, or None when nothing that others are told has changed."""
    before = {m.person_id: m for m in previous}
    after = {m.person_id: m for m in current}
    joined = tuple(sorted(after.keys() - before.keys()))
    left = tuple(sorted(before.keys() - after.keys()))
    changed = tuple(sorted(p for p in before.keys() & after.keys() if before[p] != after[p]))
    if not (joined or left or changed):
        return None
    return MembershipChange(joined=joined, left=left, changed=changed)


@dataclass(frozen=True, slots=True)
class Household:
    """A 世帯 and the membership last announced for it; `version` counts the announcements, `month` (YYYYMM) is
    the 住民記録 delivery the membership is as of (empty when the delivery carried no month)."""

    id: str
    setai_code: str
    version: int
    members: tuple[HouseholdMember, ...]
    month: str = ""

    @classmethod
    def new(cls, setai_code: str) -> Household:
        """A household first seen, not yet announced."""
        return cls(id=str(uuid.uuid4()), setai_code=setai_code, version=0, members=())

    def revise(
        self, members: tuple[HouseholdMember, ...], *, month: str | None = None
    ) -> tuple[Household, MembershipChange] | None:
        """The next announcement, as of the delivery `month` (None: the month last announced, for a change that is
        no delivery, e.g. a merge), when the current membership differs from the last one, else None."""
        change = membership_change(self.members, members)
        if change is None:
            return None
        as_of = self.month if month is None else month
        return replace(self, version=self.version + 1, members=members, month=as_of), change
