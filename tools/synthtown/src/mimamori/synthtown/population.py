"""Persons and households: the 住民記録 side of the town, built and changed by one builder."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date, timedelta

from mimamori.synthtown.addresses import Address
from mimamori.synthtown.atena import AtenaIssuer, HouseholdCodeIssuer
from mimamori.synthtown.model import FamilyName, GivenName, Household, Person, Town
from mimamori.synthtown.months import Month, school_year
from mimamori.synthtown.vocabulary import (
    BUILDINGS,
    DISTRICTS,
    FAMILY_NAMES,
    GAIJI_FAMILY_NAMES,
    GIVEN_NAMES,
    NEIGHBOUR_PLACES,
)

_ARCHETYPES: tuple[tuple[str, float], ...] = (
    ("couple_children", 0.36),
    ("single_parent", 0.10),
    ("three_generation", 0.08),
    ("couple", 0.12),
    ("elderly_couple", 0.10),
    ("elderly_single", 0.10),
    ("single", 0.14),
)


@dataclass
class Family:
    """A household built around children, with who is who."""

    household: Household
    parents: list[Person]
    children: list[Person]
    grandparents: list[Person]


class PopulationBuilder:
    """Creates persons and households with consistent names, codes, 続柄 and dates."""

    def __init__(self, *, town: Town, rng: random.Random, start: Month) -> None:
        self.town = town
        self.rng = rng
        self.start = start
        self.today = start.last_day  # the first snapshot's reference date D
        self._atena = AtenaIssuer(random.Random(rng.random()))
        self._household_codes = HouseholdCodeIssuer(random.Random(rng.random()))
        self._gaiji_next = 0xE000

    # names -------------------------------------------------------------------------------------

    def family_name(self) -> FamilyName:
        """A family name; with noise, the register may hold a variant form (髙, 﨑, 邊 …)."""
        entry = self.rng.choice(FAMILY_NAMES)
        legal = entry.common
        if self.town.noise and entry.variants and self.rng.random() < 0.6:
            legal = self.rng.choice(entry.variants)
        return FamilyName(entry.common, legal, entry.kana)

    def gaiji_family_name(self) -> FamilyName:
        """A family name whose registered form holds a 外字 (CP932 user-defined area, U+E000…)."""
        common, kana, position = GAIJI_FAMILY_NAMES[(self._gaiji_next - 0xE000) % len(GAIJI_FAMILY_NAMES)]
        gaiji = chr(self._gaiji_next)
        self._gaiji_next += 1
        return FamilyName(common, common[:position] + gaiji + common[position + 1 :], kana)

    def given_name(self, *, sex: int, birth: date, taken: set[str] | None = None) -> GivenName:
        generation = "elder" if birth.year < 1965 else "adult" if birth.year < 2000 else "young"
        pool = [entry for entry in GIVEN_NAMES[(generation, sex)] if entry.common not in (taken or set())]
        entry = self.rng.choice(pool or GIVEN_NAMES[(generation, sex)])
        legal = entry.legal if entry.legal and self.town.noise and self.rng.random() < 0.5 else entry.common
        return GivenName(entry.common, legal, entry.kana)

    # places ------------------------------------------------------------------------------------

    def address(self, *, districts: tuple[str, ...] = DISTRICTS) -> Address:
        district = self.rng.choice(districts)
        banchi = self.rng.randint(1, 2400)
        edaban = self.rng.choice((None, None, self.rng.randint(1, 30)))
        if self.rng.random() < 0.25:
            room = self.rng.choice((1, 2, 3)) * 100 + self.rng.randint(1, 8)
            return Address(f"開成町{district}", banchi, edaban, self.rng.choice(BUILDINGS), room)
        return Address(f"開成町{district}", banchi, edaban)

    def outside_address(self) -> Address:
        prefecture, county, place = self.rng.choice(NEIGHBOUR_PLACES)
        return Address(
            place, self.rng.randint(1, 900), self.rng.randint(1, 20), None, None, prefecture, county
        )

    # dates -------------------------------------------------------------------------------------

    def birth_for_age(self, age: int) -> date:
        """A birth date that makes the person `age` on the first reference date."""
        latest = date(self.today.year - age, self.today.month, min(self.today.day, 28))
        return latest - timedelta(days=self.rng.randint(0, 364))

    def birth_for_grade(self, grade: int) -> date:
        """A birth date in the cohort that is in school grade `grade` on the first reference date."""
        cohort = school_year(self.today) - grade - 6
        return date(cohort, 4, 2) + timedelta(days=self.rng.randint(0, 364))

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    # persons and households --------------------------------------------------------------------

    def household(self, *, address: Address | None = None, economy: str = "middle") -> Household:
        household = Household(self._household_codes.issue(), address or self.address(), economy=economy)
        self.town.households.append(household)
        return household

    def person(
        self,
        *,
        household: Household | None,
        relation: str,
        sex: int,
        birth: date,
        family: FamilyName,
        given: GivenName | None = None,
        resident_since: date | None = None,
        resident: bool = True,
    ) -> Person:
        """Create a person; a resident gets a 宛名番号 and joins `household`."""
        taken = {member.given.common for member in household.members} if household else set()
        since = max(birth, resident_since or birth)
        standard = not (self.town.noise and since.year < 2016 and self.rng.random() < 0.15)
        atena = None if not resident else self._atena.standard() if standard else self._atena.legacy()
        person = Person(
            truth_id=f"T{len(self.town.persons) + 1:06d}",
            atena=atena,
            atena_standard=resident and standard,
            family=family,
            given=given or self.given_name(sex=sex, birth=birth, taken=taken),
            sex=sex,
            birth=birth,
            recorded_birth=birth.strftime("%Y%m%d"),
            household=household if resident else None,
            relation=relation,
            resident_since=since,
            change_reason="出生" if since == birth else "転入",
            change_date=since,
        )
        if not resident:
            person.outside_address = self.outside_address()
        self.town.persons.append(person)
        if household is not None and resident:
            household.members.append(person)
        return person

    def family(
        self,
        *,
        parents: str,
        child_births: list[date],
        head: str = "parent",
        grandparents: str = "none",
        economy: str = "middle",
        address: Address | None = None,
        moved_in: date | None = None,
    ) -> Family:
        """A household around children: parents couple/mother/father/none, head parent/grandparent.

        With head 'grandparent' the children are 孫 and the parents 子 (and 子の妻); with head 'parent' the
        children are 子 and live-in grandparents ('both'/'grandmother'/'grandfather'/'wife_mother') are
        父/母 or 妻の母.
        """
        rng = self.rng
        household = self.household(address=address, economy=economy)
        family_name = self.family_name()
        oldest = min(child_births, default=self.birth_for_age(rng.randint(0, 10)))
        mother_birth = oldest - timedelta(days=365 * rng.randint(22, 36) + rng.randint(0, 364))
        father_birth = mother_birth - timedelta(days=rng.randint(0, 6 * 365))
        grand_birth = min(mother_birth, father_birth) - timedelta(days=365 * rng.randint(24, 32))
        since = moved_in or self.day_between(
            oldest - timedelta(days=3 * 365), self.today - timedelta(days=60)
        )

        def add(relation: str, sex: int, birth: date, name: FamilyName = family_name) -> Person:
            return self.person(
                household=household,
                relation=relation,
                sex=sex,
                birth=birth,
                family=name,
                resident_since=since,
            )

        grandparent_people: list[Person] = []
        parent_people: list[Person] = []
        if head == "grandparent":
            if grandparents in ("both", "grandfather"):
                grandparent_people.append(add("世帯主", 1, grand_birth))
            if grandparents in ("both", "grandmother"):
                relation = "妻" if grandparent_people else "世帯主"
                grandparent_people.append(
                    add(relation, 2, grand_birth + timedelta(days=rng.randint(0, 1500)))
                )
            if parents in ("couple", "father"):
                parent_people.append(add("子", 1, father_birth))
            if parents == "couple":
                parent_people.append(add("子の妻", 2, mother_birth))
            if parents == "mother":
                parent_people.append(add("子", 2, mother_birth))
            child_relation = "孫"
        else:
            mother_heads = parents == "mother" or (parents == "couple" and rng.random() < 0.1)
            if parents in ("couple", "father"):
                parent_people.append(add("夫" if mother_heads else "世帯主", 1, father_birth))
            if parents in ("couple", "mother"):
                parent_people.append(add("世帯主" if mother_heads else "妻", 2, mother_birth))
            parent_people.sort(key=lambda person: person.relation != "世帯主")
            if grandparents in ("both", "grandfather"):
                grandparent_people.append(add("父", 1, grand_birth))
            if grandparents in ("both", "grandmother") or (
                grandparents == "wife_mother" and parents == "couple" and not mother_heads
            ):
                relation, name = (
                    ("母", family_name) if grandparents != "wife_mother" else ("妻の母", self.family_name())
                )
                grandparent_people.append(
                    add(relation, 2, grand_birth + timedelta(days=rng.randint(0, 1500)), name)
                )
            child_relation = "子"
        children = [add(child_relation, rng.choice((1, 2)), birth) for birth in sorted(child_births)]
        household.members.sort(key=lambda person: person.relation != "世帯主")
        return Family(household, parent_people, children, grandparent_people)

    def child_births(self, count: int, *, oldest_age: int) -> list[date]:
        """Birth dates of siblings, sometimes with twins."""
        births = [self.birth_for_age(oldest_age)]
        while len(births) < count:
            if self.rng.random() < 0.05:
                births.append(births[-1])  # twins
                continue
            following = births[-1] + timedelta(days=self.rng.randint(400, 1900))
            if following > self.today:
                break
            births.append(following)
        return births

    def random_household(self, *, moved_in: date | None = None) -> Household:
        """A household of a random archetype, 1–6 persons; `moved_in`: all arrived (転入) that day."""
        rng = self.rng
        kind = rng.choices([name for name, _ in _ARCHETYPES], [weight for _, weight in _ARCHETYPES])[0]
        economy = rng.choices(("low", "middle", "high"), (0.15, 0.65, 0.20))[0]
        if kind in ("couple_children", "single_parent", "three_generation"):
            count = rng.choices((1, 2, 3, 4), (0.35, 0.45, 0.18, 0.02))[0]
            births = self.child_births(count, oldest_age=rng.randint(0, 21))
            if kind == "couple_children":
                return self.family(
                    parents="couple", child_births=births[:4], economy=economy, moved_in=moved_in
                ).household
            if kind == "single_parent":
                parent = "mother" if rng.random() < 0.85 else "father"
                economy = rng.choices(("low", "middle"), (0.6, 0.4))[0]
                return self.family(
                    parents=parent, child_births=births[:3], economy=economy, moved_in=moved_in
                ).household
            grand_head = rng.random() < 0.6
            return self.family(
                parents=rng.choices(("couple", "mother", "father"), (0.8, 0.15, 0.05))[0],
                child_births=births[:2],
                head="grandparent" if grand_head else "parent",
                grandparents=rng.choice(
                    ("both", "grandmother") if grand_head else ("both", "grandmother", "wife_mother")
                ),
                economy=economy,
                moved_in=moved_in,
            ).household
        household = self.household(economy=economy)
        name = self.family_name()
        elderly = kind.startswith("elderly")
        age = rng.randint(66, 92) if elderly else rng.randint(19, 64)
        since = moved_in or self.birth_for_age(rng.randint(0, age))
        head = self.person(
            household=household,
            relation="世帯主",
            sex=rng.choice((1, 2)) if kind.endswith("single") else 1,
            birth=self.birth_for_age(age),
            family=name,
            resident_since=since,
        )
        if kind in ("couple", "elderly_couple"):
            self.person(
                household=household,
                relation="妻",
                sex=2,
                birth=head.birth + timedelta(days=rng.randint(-700, 2500)),
                family=name,
                resident_since=since,
            )
        if kind.endswith("single") and rng.random() < 0.2:
            self._add_housemate(household, head, since=since)
        if elderly and self.town.noise and rng.random() < 0.06:
            head.recorded_birth = self._unknown_birth(head.birth)
        return household

    def _add_housemate(self, household: Household, head: Person, *, since: date) -> None:
        """A sibling of the head (兄/姉/弟/妹), or now and then someone unrelated (同居人)."""
        rng = self.rng
        sex = rng.choice((1, 2))
        birth = min(head.birth + timedelta(days=rng.randint(-3000, 3000)), self.birth_for_age(18))
        if rng.random() < 0.25:
            relation, name = "同居人", self.family_name()
        else:
            older = birth < head.birth
            relation, name = (
                {(1, True): "兄", (2, True): "姉", (1, False): "弟", (2, False): "妹"}[(sex, older)],
                head.family,
            )
        self.person(
            household=household, relation=relation, sex=sex, birth=birth, family=name, resident_since=since
        )

    def _unknown_birth(self, birth: date) -> str:
        """A 住民記録 birth date partly unknown, or off the calendar (29 February of a common year)."""
        common_year = birth.year + 1 if calendar.isleap(birth.year) else birth.year
        return self.rng.choice(
            (f"{birth.year}0000", f"{birth.year}{birth.month:02d}00", f"{common_year}0229")
        )

    def remove(self, person: Person, *, reason: str, day: date) -> None:
        """消除: the person leaves the register's current residents but keeps their record."""
        person.outside_address = person.address  # the register keeps the last address in town
        person.removed = True
        person.change_reason = reason
        person.change_date = day
        household = person.household
        if household is not None and person in household.members:
            household.members.remove(person)
            if person.relation == "世帯主" and household.members:
                self.promote_new_head(household, day)

    def promote_new_head(self, household: Household, day: date) -> None:
        """The spouse (or else the eldest) becomes 世帯主."""
        # The simulation removes a head only from couples and single-generation homes, so no other
        # member's 続柄 needs restating.
        spouse = next((member for member in household.members if member.relation in ("妻", "夫")), None)
        new_head = spouse or min(household.members, key=lambda member: member.birth)
        new_head.relation = "世帯主"
        new_head.change_reason = "世帯変更"
        new_head.change_date = day
