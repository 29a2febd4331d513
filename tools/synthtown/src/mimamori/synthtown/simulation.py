"""The town over the months: the first snapshot's population and history, then month-by-month changes."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from mimamori.synthtown.consultations import (
    record_abuse_report,
    record_centre_visits,
    record_consultation,
    record_past_abuse_reports,
    record_random_consultations,
    record_random_ssw_consultations,
)
from mimamori.synthtown.evolution import TownChanges, plan_pregnancies
from mimamori.synthtown.health import record_past_birth
from mimamori.synthtown.kinship import parents_of
from mimamori.synthtown.model import Household, Person, Town
from mimamori.synthtown.months import Month, grade_on, school_year
from mimamori.synthtown.population import PopulationBuilder
from mimamori.synthtown.scenarios import SCENARIOS, plant_scenario, record_scenario_support
from mimamori.synthtown.school import SchoolOffice, record_attendance, record_nurse_visits, town_schools
from mimamori.synthtown.welfare import (
    assess_taxes,
    certify_school_aid,
    grant_child_allowances,
    grant_disability_records,
    grant_hoiku,
    grant_single_parent_support,
    open_welfare_case,
    school_aid_years,
    tax_years,
    town_facilities,
)


class TownSimulation:
    """Builds the town as of the first month and moves it on; every random choice flows from `seed`."""

    def __init__(
        self, *, seed: int, households: int, months: list[Month], municipality_code: str, noise: bool
    ) -> None:
        self.seed = seed
        self.months = months
        self.size = households
        self.town = Town(
            municipality_code=municipality_code,
            noise=noise,
            schools=town_schools(municipality_code),
            facilities=town_facilities(municipality_code),
        )
        self.builder = PopulationBuilder(town=self.town, rng=self._rng("population"), start=months[0])
        self.office = SchoolOffice(town=self.town, rng=self._rng("school"))
        self.changes: TownChanges | None = None

    def _rng(self, purpose: str, month: Month | None = None) -> random.Random:
        return random.Random(f"{self.seed}:{purpose}:{month.code if month else ''}")

    # the first snapshot ------------------------------------------------------------------------

    def build(self) -> None:
        """Population, records and history as of the first month's reference date."""
        builder, town, today = self.builder, self.town, self.builder.today
        rng = self._rng("records")
        planted = SCENARIOS[: min(len(SCENARIOS), self.size // 2)]
        for scenario in planted:
            plant_scenario(builder, scenario, months=self.months)
        special = self._special_households() if self.size - len(planted) >= 10 else []
        while len(town.households) < self.size:
            builder.random_household()
        self._remove_some(rng)
        self._same_names(rng)
        for household in list(town.households):
            self._grant_records(household, rng)
        self._open_welfare_cases(rng, exclude=special)
        for person in list(town.persons):
            self.office.initial_enrolment(person, today)
            if person.is_resident and person.age(today) < 4 and person.change_reason == "出生":
                mother = next((p for p in parents_of(person, on=today) if p.sex == 2), None)
                record_past_birth(town, child=person, mother=mother, rng=rng, until=self.months[-1])
        self._outsiders(rng)
        record_past_abuse_reports(town, rng=rng, today=today)
        self.changes = TownChanges(
            builder=builder,
            office=self.office,
            pregnancies=plan_pregnancies(builder, months=self.months, rng=self._rng("pregnancies")),
            last=self.months[-1],
            size=self.size,
        )
        first = self.months[0]
        for back in range(14, 0, -1):
            month = first.shift(-back)
            record_random_consultations(town, month=month, rng=self._rng("soudan", month))
            if back <= 11:
                record_random_ssw_consultations(town, month=month, rng=self._rng("ssw", month))
            if back <= 6:
                record_centre_visits(town, month=month, rng=self._rng("centre", month))

    def _special_households(self) -> list[Household]:
        """A DV 支援措置 family and, with noise, three families whose registered name holds a 外字."""
        builder, rng, today = self.builder, self.builder.rng, self.builder.today
        dv = builder.family(
            parents="mother",
            child_births=builder.child_births(2, oldest_age=rng.randint(7, 11)),
            economy="low",
            address=builder.address(),
            moved_in=today - timedelta(days=rng.randint(90, 300)),
        )
        for member in dv.household.members:
            member.dv_support = True
        record_consultation(
            self.town,
            rng=rng,
            kind="女性相談",
            day=dv.parents[0].resident_since + timedelta(days=3),
            consulter=dv.parents[0],
            subject=dv.parents[0],
        )
        special = [dv.household]
        if self.town.noise:
            for _ in range(3):
                household = builder.random_household()
                common = household.head.family
                gaiji = builder.gaiji_family_name()
                for member in household.members:
                    if member.family == common:
                        member.family = gaiji
                special.append(household)
        return special

    def _remove_some(self, rng: random.Random) -> None:
        """消除 before the first month: deaths, young adults who moved away, one 職権消除."""
        today = self.builder.today
        candidates = [
            h for h in self.town.households if h.scenario is None and not any(m.dv_support for m in h.members)
        ]
        elderly = [m for h in candidates for m in h.members if m.age(today) >= 78 and len(h.members) <= 2]
        for person in rng.sample(elderly, min(len(elderly), 1 + self.size // 250)):
            self.builder.remove(person, reason="死亡", day=today - timedelta(days=rng.randint(20, 330)))
        young = [m for h in candidates for m in h.members if m.relation == "子" and 19 <= m.age(today) <= 28]
        for person in rng.sample(young, min(len(young), 1 + self.size // 200)):
            self.builder.remove(person, reason="転出", day=today - timedelta(days=rng.randint(20, 330)))
        singles = [h.members[0] for h in candidates if len(h.members) == 1 and h.members[0].age(today) < 60]
        if singles:
            self.builder.remove(
                rng.choice(singles), reason="職権消除", day=today - timedelta(days=rng.randint(40, 200))
            )

    def _same_names(self, rng: random.Random) -> None:
        """Children who share a name (and one pair who share the birth date too) in different households."""
        today = self.builder.today
        groups: dict[tuple[str, int, int], list[Person]] = defaultdict(list)
        for person in self.town.persons:
            grade = grade_on(person.birth, today)
            household = person.household
            if (
                person.is_resident
                and 1 <= grade <= 9
                and household is not None
                and household.scenario is None
            ):
                groups[(person.family.common, person.sex, grade)].append(person)
        pairs = 0
        for members in groups.values():
            first = members[0]
            for second in members[1:]:
                home = second.household
                if home is None or home is first.household:
                    continue
                if any(member.given.common == first.given.common for member in home.members):
                    continue
                second.given = first.given
                if pairs == 0:  # the hardest case: same name, sex and birth date, another address
                    second.birth = first.birth
                    second.recorded_birth = first.recorded_birth
                pairs += 1
                break
            if pairs == 3:
                return

    def _grant_records(self, household: Household, rng: random.Random) -> None:
        town, today = self.town, self.builder.today
        if not household.members:
            return
        planted = household.scenario is not None
        household.support_centre_user = not planted and rng.random() < 0.35
        grant_child_allowances(town, household, on=today)
        assess_taxes(town, household, rng=rng, nendos=tax_years(self.months[0], self.months[-1]), on=today)
        if planted:
            return
        grant_single_parent_support(town, household, rng=rng, on=today)
        for person in household.members:
            grant_disability_records(town, person, rng=rng, on=today)
            grant_hoiku(town, person, rng=rng, on=today)

    def _open_welfare_cases(self, rng: random.Random, *, exclude: list[Household]) -> None:
        """生活保護 for about 1.2% of households (low income, living alone), one closed case; 就学援助."""
        today = self.builder.today
        open_to_random = [
            h for h in self.town.households if h.scenario is None and h.members and h not in exclude
        ]
        candidates = [h for h in open_to_random if h.economy == "low" or len(h.members) == 1]
        rng.shuffle(candidates)
        wanted = max(1, round(self.size * 0.012))
        for household in candidates[:wanted]:
            household.economy = "seiho"
            open_welfare_case(
                self.town, household, rng=rng, start=today - timedelta(days=rng.randint(60, 8 * 365))
            )
        if len(candidates) > wanted:
            start = today - timedelta(days=rng.randint(1500, 3000))
            end = start + timedelta(days=rng.randint(300, 1000))
            open_welfare_case(self.town, candidates[wanted], rng=rng, start=start, end=end)
        years = school_aid_years(self.months[0], self.months[-1])
        for household in self.town.households:
            if household.members:
                certify_school_aid(self.town, household, rng=rng, nendos=years, on=today)

    def _outsiders(self, rng: random.Random) -> None:
        """Non-residents: a child at a town school (区域外就学), a reported child, support-centre visitors."""
        builder, today = self.builder, self.builder.today
        families = []
        births = (
            builder.birth_for_grade(rng.randint(1, 6)),
            builder.birth_for_age(rng.randint(2, 9)),
            builder.birth_for_age(1),
        )
        for child_birth in births:
            name = builder.family_name()
            parent = builder.person(
                household=None,
                relation="",
                sex=2,
                birth=child_birth - timedelta(days=365 * rng.randint(24, 38)),
                family=name,
                resident=False,
            )
            child = builder.person(
                household=None,
                relation="",
                sex=rng.choice((1, 2)),
                birth=child_birth,
                family=name,
                resident=False,
            )
            child.outside_address = parent.outside_address
            families.append((parent, child))
        self.town.outsiders.extend(families)
        pupil = families[0][1]
        school = next(s for s in self.town.schools if s.level == "小")
        self.office.enrol(pupil, school, start=date(school_year(today), 4, 6))
        reported = families[1][1]
        record_abuse_report(
            self.town, child=reported, received=today - timedelta(days=rng.randint(30, 500)), rng=rng
        )

    # each month ----------------------------------------------------------------------------------

    def advance(self, index: int) -> None:
        """Apply month `index`'s changes (the first month is the built snapshot)."""
        if index > 0:
            assert self.changes is not None
            month = self.months[index]
            self.changes.apply(month, index=index, rng=self._rng("changes", month))

    def record_activity(self, index: int) -> None:
        """What the month's events add to the logs: attendance, visits, consultations, reports."""
        month, town = self.months[index], self.town
        record_attendance(town=town, month=month, index=index, rng=self._rng("attendance", month))
        record_nurse_visits(town=town, month=month, rng=self._rng("nurse", month))
        record_random_consultations(town, month=month, rng=self._rng("soudan", month))
        record_scenario_support(town, month=month, rng=self._rng("support", month))
        record_random_ssw_consultations(town, month=month, rng=self._rng("ssw", month))
        record_centre_visits(town, month=month, rng=self._rng("centre", month))
        self._new_abuse_reports(month)

    def _new_abuse_reports(self, month: Month) -> None:
        rng = self._rng("abuse", month)
        children = [
            p
            for p in town_children(self.town, month.last_day)
            if p.household is not None and p.household.scenario is None
        ]
        count = rng.choice((0, 1)) + self.size // 600
        for child in rng.sample(children, min(len(children), count)):
            record_abuse_report(self.town, child=child, received=month.day(rng.randint(1, 25)), rng=rng)


def town_children(town: Town, on: date) -> list[Person]:
    return [p for p in town.persons if p.is_resident and p.age(on) < 16 and p.relation in ("子", "孫")]
