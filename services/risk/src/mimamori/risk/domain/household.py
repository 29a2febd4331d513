"""Households as identity announces them, and the view of each child derived from its household on a day D.

The rule (docs: /work/shared/domain/README.md): a child is a 子 (ko: child) or 孫 (mago: grandchild) of the
世帯主 (setainushi: head of household) who is under 18 on D or of school age. A parent is a member of the same
household who is the child's father or mother by 続柄 (zokugara: relation to the head) — for a 子 the 世帯主
and the 妻/夫, for a 孫 the 子 and the 子の妻/夫 — and who is 18 or older on D and a current resident.
ひとり親 (single parent) = exactly one such parent. A younger sibling is another member of the same
generation with a strictly later birth date (a twin is not younger).

Only current residents take part: a 消除 (shōjo: removed) member is neither a child, a parent nor a sibling.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

HEAD = "世帯主"
WIFE = "妻"
HUSBAND = "夫"
CHILD = "子"
GRANDCHILD = "孫"
CHILD_WIFE = "子の妻"
CHILD_HUSBAND = "子の夫"

ADULT_AGE = 18
FIRST_GRADE, LAST_GRADE = 1, 9  # 小1 … 中3

# The 続柄 of the father and mother of a child of each generation.
PARENT_ZOKUGARA: dict[str, tuple[str, ...]] = {
    CHILD: (HEAD, WIFE, HUSBAND),
    GRANDCHILD: (CHILD, CHILD_WIFE, CHILD_HUSBAND),
}

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_RAW = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def age_on(birth: date, day: date) -> int:
    """Completed years on a day; a 29 February birthday falls on 1 March in common years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def school_grade_on(birth: date, day: date) -> int | None:
    """The compulsory-school grade (1 = 小1 … 9 = 中3) of a child born on `birth`, on `day`; None outside it.

    A child starts 小1 in the April after turning 6; those born on 1 April start with the cohort before."""
    school_year = day.year if day.month >= 4 else day.year - 1
    cohort = birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1
    grade = school_year - cohort - 6
    return grade if FIRST_GRADE <= grade <= LAST_GRADE else None


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date as 住民記録 keeps it: exact, partly unknown (`19500000`, `19501200`), off the calendar
    (`19000229`) or missing. `earliest`/`latest` bound the possible days (None: even the year is unknown)."""

    raw: str
    earliest: date | None
    latest: date | None

    @classmethod
    def parse(cls, raw: str) -> BirthDate:
        """The bounds of a raw value (ISO `YYYY-MM-DD` or `YYYYMMDD`); unknown parts widen them."""
        text = raw.strip()
        found = _ISO.match(text) or _RAW.match(text)
        if found is None:
            return cls(raw, None, None)
        year, month, day = (int(g) for g in found.groups())
        if year == 0:
            return cls(raw, None, None)
        if not 1 <= month <= 12:
            return cls(raw, date(year, 1, 1), date(year, 12, 31))
        last = calendar.monthrange(year, month)[1]
        if 1 <= day <= last:
            exact = date(year, month, day)
            return cls(raw, exact, exact)
        return cls(raw, date(year, month, 1), date(year, month, last))

    @property
    def exact(self) -> date | None:
        """The birth date when it is fully known."""
        return self.earliest if self.earliest is not None and self.earliest == self.latest else None

    def born_by(self, day: date) -> bool:
        """Whether the person certainly existed on `day` (an unknown date counts as born)."""
        return self.latest is None or self.latest <= day

    def age_on(self, day: date) -> int | None:
        """The age on a day when the known part of the date fixes it, else None."""
        if self.earliest is None or self.latest is None:
            return None
        youngest, oldest = age_on(self.latest, day), age_on(self.earliest, day)
        return youngest if youngest == oldest else None

    def certainly_adult_on(self, day: date) -> bool:
        """Whether the person is 18 or older on `day` whatever the unknown part of the date is."""
        return self.latest is not None and age_on(self.latest, day) >= ADULT_AGE

    def certainly_minor_on(self, day: date) -> bool:
        """Whether the person is under 18 on `day` whatever the unknown part of the date is."""
        return self.earliest is not None and age_on(self.earliest, day) < ADULT_AGE

    def school_grade_on(self, day: date) -> int | None:
        """The school grade on a day when the known part of the date fixes it, else None."""
        if self.earliest is None or self.latest is None:
            return None
        first, last = school_grade_on(self.earliest, day), school_grade_on(self.latest, day)
        return first if first == last else None

    def certainly_before(self, other: BirthDate) -> bool:
        """Whether this person was born strictly before the other (equal or uncertain order: False)."""
        return self.latest is not None and other.earliest is not None and self.latest < other.earliest


@dataclass(frozen=True, slots=True)
class Member:
    """A person in a household, as identity knows them."""

    person_id: str
    zokugara: str
    birth_date: BirthDate
    sex: str
    resident: bool
    dv_support: bool

    @property
    def generation(self) -> str | None:
        """子 or 孫 when the member is of a child generation of the 世帯主, else None."""
        zokugara = self.zokugara.strip()
        return zokugara if zokugara in PARENT_ZOKUGARA else None

    def present_on(self, day: date) -> bool:
        """A current resident who was born by `day`."""
        return self.resident and self.birth_date.born_by(day)


@dataclass(frozen=True, slots=True)
class Child:
    """One child of a household as of a day: who the parents and the younger siblings are."""

    person_id: str
    household_id: str
    generation: str
    as_of: date
    age: int | None
    school_grade: int | None
    parent_ids: tuple[str, ...]
    younger_sibling_ids: tuple[str, ...]

    @property
    def single_parent(self) -> bool:
        """ひとり親: exactly one parent in the household."""
        return len(self.parent_ids) == 1


@dataclass(frozen=True, slots=True)
class Household:
    """The full membership of one household (世帯) at identity's version, as of the 住民記録 month `month_from`
    (YYYYMM; empty: announced without a month, so it holds for every month)."""

    household_id: str
    setai_code: str
    version: int
    members: tuple[Member, ...]
    month_from: str = ""

    def member(self, person_id: str) -> Member | None:
        """The member with this person id."""
        return next((m for m in self.members if m.person_id == person_id), None)

    def children(self, *, as_of: date) -> list[Child]:
        """Every child of the household on `as_of`, in order of birth."""
        found = (self._child(m, as_of) for m in self.members)
        return sorted(
            (c for c in found if c is not None),
            key=lambda c: (self._birth_key(c.person_id), c.person_id),
        )

    def child(self, person_id: str, *, as_of: date) -> Child | None:
        """The view of one member as a child on `as_of`, or None when they are not a child then."""
        member = self.member(person_id)
        return self._child(member, as_of) if member is not None else None

    def family(self, person_id: str, *, as_of: date) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(parents, younger siblings, siblings) of any current member on `as_of`, whether or not they are a
        child by age: a pupil on the school roll is scored whatever the household says about their age."""
        member = self.member(person_id)
        if member is None or member.generation is None:
            return (), (), ()
        generation = member.generation
        siblings = tuple(
            sorted(
                m.person_id
                for m in self.members
                if m.person_id != person_id and m.generation == generation and m.present_on(as_of)
            )
        )
        return self._parents(generation, as_of), self._younger_siblings(member, as_of), siblings

    def residents(self, *, as_of: date) -> tuple[str, ...]:
        """The members present on `as_of`."""
        return tuple(m.person_id for m in self.members if m.present_on(as_of))

    def _child(self, member: Member, as_of: date) -> Child | None:
        generation = member.generation
        if generation is None or not member.present_on(as_of):
            return None
        grade = member.birth_date.school_grade_on(as_of)
        if not (member.birth_date.certainly_minor_on(as_of) or grade is not None):
            return None
        return Child(
            person_id=member.person_id,
            household_id=self.household_id,
            generation=generation,
            as_of=as_of,
            age=member.birth_date.age_on(as_of),
            school_grade=grade,
            parent_ids=self._parents(generation, as_of),
            younger_sibling_ids=self._younger_siblings(member, as_of),
        )

    def _parents(self, generation: str, as_of: date) -> tuple[str, ...]:
        roles = PARENT_ZOKUGARA[generation]
        parents = [
            m
            for m in self.members
            if m.zokugara.strip() in roles and m.present_on(as_of) and m.birth_date.certainly_adult_on(as_of)
        ]
        parents.sort(key=lambda m: (roles.index(m.zokugara.strip()), m.person_id))
        return tuple(m.person_id for m in parents)

    def _younger_siblings(self, child: Member, as_of: date) -> tuple[str, ...]:
        younger = [
            m
            for m in self.members
            if m.person_id != child.person_id
            and m.generation == child.generation
            and m.present_on(as_of)
            and child.birth_date.certainly_before(m.birth_date)
        ]
        younger.sort(key=lambda m: (m.birth_date.earliest or date.max, m.person_id))
        return tuple(m.person_id for m in younger)

    def _birth_key(self, person_id: str) -> date:
        member = self.member(person_id)
        earliest = member.birth_date.earliest if member is not None else None
        return earliest or date.max


class Placement(Enum):
    """Where an announcement goes in a household's timeline."""

    STALE = "stale"  # an announcement of that month with a higher version is stored: changes nothing
    CURRENT = "current"  # replaces the latest snapshot (same month, or the household's first)
    SUPERSEDE = "supersede"  # a later month: the latest snapshot becomes history, this one the latest
    HISTORY = "history"  # an earlier month than the latest (a correction, or arriving out of order)
    RESET = "reset"  # no month (an older producer): replaces every snapshot and holds for every month


@dataclass(frozen=True, slots=True)
class Timeline:
    """The snapshots of one household that risk keeps: month_from → version, the latest month being `current`.

    Each month's membership is the snapshot with the latest month_from at or before it; per month_from the highest
    version wins, so announcements may arrive in any order. An empty month_from (announced without a month) holds
    from the beginning."""

    current: tuple[str, int] | None = None
    past: dict[str, int] = field(default_factory=dict)

    def place(self, *, month_from: str, version: int) -> Placement:
        """Where an announcement of `version` as of `month_from` goes (an equal version replaces: redelivery)."""
        if not month_from:
            newest = max([*self.past.values(), *([self.current[1]] if self.current else [])], default=None)
            return Placement.RESET if newest is None or version >= newest else Placement.STALE
        if self.current is None:
            return Placement.CURRENT
        latest, latest_version = self.current
        if month_from > latest:
            return Placement.SUPERSEDE
        if month_from == latest:
            return Placement.CURRENT if version >= latest_version else Placement.STALE
        stored = self.past.get(month_from)
        return Placement.HISTORY if stored is None or version >= stored else Placement.STALE

    def months(self) -> list[str]:
        """Every month_from stored, in order."""
        return sorted({*self.past, *([self.current[0]] if self.current else [])})

    def holds_until(self, month_from: str) -> str | None:
        """The next month_from after `month_from` (the snapshot holds for the months before it); None: open."""
        return next((m for m in self.months() if m > month_from), None)


def in_force(months_from: Iterable[str], month: str) -> str | None:
    """The month_from of the snapshot in force in `month` (YYYYMM): the latest at or before it; None when the
    household was not announced yet then."""
    return max((m for m in months_from if m <= month), default=None)
