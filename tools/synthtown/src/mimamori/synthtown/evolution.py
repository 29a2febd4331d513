"""What changes in the town from one month to the next: births, deaths, moves, a divorce, name changes."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from mimamori.synthtown.consultations import record_consultation
from mimamori.synthtown.health import (
    Pregnancy,
    notify_pregnancy,
    schedule_infant_checks,
    schedule_postnatal_checks,
)
from mimamori.synthtown.kinship import guardian_of
from mimamori.synthtown.model import FamilyName, Household, Person, Town
from mimamori.synthtown.months import Month, grade_on
from mimamori.synthtown.population import PopulationBuilder
from mimamori.synthtown.school import SchoolOffice
from mimamori.synthtown.vocabulary import DISTRICTS_NORTH, DISTRICTS_SOUTH
from mimamori.synthtown.welfare import (
    certify_fuyou,
    end_child_allowances,
    end_hoiku,
    grant_child_allowance,
    grant_child_allowances,
    grant_disability_records,
    grant_iryo,
)


@dataclass
class TownChanges:
    """Applies one month's changes to the town, each dated inside that month."""

    builder: PopulationBuilder
    office: SchoolOffice
    pregnancies: list[Pregnancy]
    last: Month
    size: int  # households at the start: scales the number of events

    @property
    def town(self) -> Town:
        return self.builder.town

    def apply(self, month: Month, *, index: int, rng: random.Random) -> None:
        """Month `index` (from 1): grades, births, deaths, moves; the divorce and marriage stories."""
        for person in self.town.persons:
            self.office.update(person, month.first_day)  # a new school year moves grades on
        self._births(month, rng)
        self._deaths(month, rng)
        self._move_outs(month, rng)
        self._move_ins(month, rng)
        self._relocations(month, rng)
        if index == 1:
            self._divorce(month, rng)
            self._marriage(month, rng)
            self._planted_relocations(month)
        if index == 2:
            self._after_divorce(month, rng)

    def _count(self, rate: float, *, at_least: int = 1) -> int:
        return max(at_least if self.size >= 40 else 0, round(self.size * rate))

    def _candidates(self, predicate: Callable[[Household], bool]) -> list[Household]:
        """Households open to random events: not planted, not empty."""
        return [h for h in self.town.households if h.scenario is None and h.members and predicate(h)]

    # births and deaths ---------------------------------------------------------------------------

    def _births(self, month: Month, rng: random.Random) -> None:
        for pregnancy in self.pregnancies:
            mother = pregnancy.mother
            if Month.of(pregnancy.due) != month or not mother.is_resident or mother.household is None:
                continue
            day = pregnancy.due
            relation = "孫" if mother.relation in ("子", "子の妻") else "子"
            baby = self.builder.person(
                household=mother.household,
                relation=relation,
                sex=rng.choice((1, 2)),
                birth=day,
                family=mother.family,
            )
            recipient = guardian_of(baby, on=day)
            if recipient is not None:
                grant_child_allowance(self.town, child=baby, recipient=recipient, start=month.shift(1))
            schedule_infant_checks(self.town, child=baby, rng=rng, until=self.last)
            schedule_postnatal_checks(self.town, mother=mother, birth=day, rng=rng)

    def _deaths(self, month: Month, rng: random.Random) -> None:
        today = month.first_day
        elderly = [
            person
            for household in self._candidates(lambda h: all(m.age(today) >= 60 for m in h.members))
            for person in household.members
            if person.age(today) >= 75
        ]
        for person in rng.sample(elderly, min(len(elderly), self._count(0.0015))):
            self.builder.remove(person, reason="死亡", day=month.day(rng.randint(1, 28)))

    # moves ---------------------------------------------------------------------------------------

    def _move_outs(self, month: Month, rng: random.Random) -> None:
        families = self._candidates(lambda h: not any(m.dv_support for m in h.members))
        for household in rng.sample(families, min(len(families), self._count(0.004))):
            self._move_out(household, day=month.day(rng.randint(1, 28)), month=month)
        young = [
            person
            for household in self._candidates(lambda h: len(h.members) > 2)
            for person in household.members
            if person.relation == "子" and 19 <= person.age(month.first_day) <= 30
        ]
        for person in rng.sample(young, min(len(young), self._count(0.002, at_least=0))):
            self._leave(person, day=month.day(rng.randint(1, 28)), month=month)

    def _move_out(self, household: Household, *, day: date, month: Month) -> None:
        """転出 of a whole household: every member 消除, their benefits and places end."""
        for person in sorted(household.members, key=lambda member: member.relation == "世帯主"):
            self._leave(person, day=day, month=month)  # the head last, so no one is promoted

    def _leave(self, person: Person, *, day: date, month: Month) -> None:
        self.builder.remove(person, reason="転出", day=day)
        self.office.update(person, day)
        end_child_allowances(self.town, person, month=month)
        end_hoiku(self.town, person, day=day)
        for iryo in self.town.iryo:
            if person in (iryo.recipient, iryo.subject) and iryo.end is None:
                iryo.end = day + timedelta(days=1)
        for fuyou in self.town.fuyou:
            if fuyou.recipient is person and fuyou.lost is None:
                fuyou.lost = day + timedelta(days=1)

    def _move_ins(self, month: Month, rng: random.Random) -> None:
        for _ in range(self._count(0.004)):
            day = month.day(rng.randint(1, 28))
            household = self.builder.random_household(moved_in=day)
            household.support_centre_user = rng.random() < 0.35
            grant_child_allowances(self.town, household, on=day)
            for person in household.members:
                grant_disability_records(self.town, person, rng=rng, on=day)
                self.office.update(person, day)

    def _relocations(self, month: Month, rng: random.Random) -> None:
        """転居 inside the town; one family with a pupil crosses to the other school's district."""
        households = self._candidates(lambda h: True)
        movers = rng.sample(households, min(len(households), self._count(0.002)))
        with_pupil = self._candidates(
            lambda h: any(
                1 <= grade_on(m.birth, month.first_day) <= 5 for m in h.members if m.relation == "子"
            )
        )
        if with_pupil:
            movers.append(rng.choice(with_pupil))
        for household in movers:
            self._relocate(household, day=month.day(rng.randint(5, 20)), rng=rng)

    def _relocate(self, household: Household, *, day: date, rng: random.Random) -> None:
        other = DISTRICTS_SOUTH if household.address.district in DISTRICTS_NORTH else DISTRICTS_NORTH
        household.address = self.builder.address(districts=other)
        for person in household.members:
            person.change_reason = "転居"
            person.change_date = day
            self.office.update(person, day)

    def _planted_relocations(self, month: Month) -> None:
        for subject in self.town.scenarios.get("yc_tardy_school_change", []):
            if subject.household is not None:
                self._relocate(subject.household, day=month.day(15), rng=self.builder.rng)

    # stories -------------------------------------------------------------------------------------

    def _divorce(self, month: Month, rng: random.Random) -> None:
        """The father moves to a new household of his own; the mother becomes 世帯主 of the children's."""
        day = month.day(10)
        for subject in self.town.scenarios.get("yc_divorce_story", []):
            household = subject.household
            if household is None:
                continue
            father = household.head
            household.members.remove(father)
            self.builder.promote_new_head(household, day)
            new_home = self.builder.household(economy="middle")
            father.household = new_home
            father.relation = "世帯主"
            father.change_reason = "転居"
            father.change_date = day
            new_home.members.append(father)
            end_child_allowances(self.town, father, month=month)
            mother = household.head
            for child in household.members:
                if child is not mother:
                    grant_child_allowance(self.town, child=child, recipient=mother, start=month.shift(1))
            record_consultation(self.town, rng=rng, kind="ひとり親相談", day=month.day(20), consulter=mother)

    def _after_divorce(self, month: Month, rng: random.Random) -> None:
        """復氏: the mother takes back her former family name; 児童扶養手当 and 医療費助成 start."""
        for subject in self.town.scenarios.get("yc_divorce_story", []):
            household = subject.household
            if household is None:
                continue
            mother = household.head
            self._rename(mother, day=month.day(8), rng=rng)
            certify_fuyou(self.town, parent=mother, certified=month.day(10), kubun="全部支給")
            grant_iryo(self.town, parent=mother, start=month.first_day, recorded=month.day(5))

    def _marriage(self, month: Month, rng: random.Random) -> None:
        """A woman living alone marries: her husband moves in (転入) and she takes his family name."""
        day = month.day(rng.randint(1, 28))
        singles = self._candidates(
            lambda h: len(h.members) == 1 and h.members[0].sex == 2 and 22 <= h.members[0].age(day) <= 45
        )
        if not singles:
            return
        household = rng.choice(singles)
        wife = household.members[0]
        husband_name = self._rename(wife, day=day, rng=rng)
        self.builder.person(
            household=household,
            relation="夫",
            sex=1,
            birth=wife.birth - timedelta(days=rng.randint(0, 2000)),
            family=husband_name,
            resident_since=day,
        )

    def _rename(self, person: Person, *, day: date, rng: random.Random) -> FamilyName:
        """氏名変更 to another family name (the legal form follows the builder's noise rules)."""
        while True:
            name = self.builder.family_name()
            if name.common != person.family.common:
                break
        person.former_family_names.append(person.family.legal)
        person.family = name
        person.change_reason = "氏名変更"
        person.change_date = day
        return name


def plan_pregnancies(
    builder: PopulationBuilder, *, months: list[Month], rng: random.Random
) -> list[Pregnancy]:
    """Women who give birth during the months (from month 2) or are still pregnant at the end."""
    today = builder.today
    women = [
        person
        for household in builder.town.households
        if household.scenario is None
        for person in household.members
        if person.relation in ("妻", "子の妻")
        and 22 <= person.age(today) <= 40
        and not any(m.relation in ("子", "孫") and m.age(today) < 1 for m in household.members)
    ]
    rng.shuffle(women)
    per_month = max(1, round(len(builder.town.households) * 0.006))
    dues = [month.day(rng.randint(1, 28)) for month in months[1:] for _ in range(per_month)]
    dues += [months[-1].last_day + timedelta(days=rng.randint(20, 200)) for _ in range(per_month * 2)]
    pregnancies = []
    for mother, due in zip(women, dues, strict=False):
        tokutei = rng.random() < 0.08
        pregnancies.append(Pregnancy(mother, due, tokutei))
        notify_pregnancy(builder.town, mother=mother, due=due, rng=rng, tokutei=tokutei)
    return pregnancies
