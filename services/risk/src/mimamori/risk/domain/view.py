"""What risk knows as of a month, for the persons loaded: households, facts, who is scored, and each child's
subject (family and facts) for the rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mimamori.risk.domain.facts import RESTRICTED_KINDS, Fact
from mimamori.risk.domain.household import Household
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.engine import Assessment, Subject, evaluate
from mimamori.risk.domain.rules.language import Population, Rule

AGE_BANDS = ((0, 2, "0-2"), (3, 5, "3-5"), (6, 11, "6-11"), (12, 14, "12-14"), (15, 17, "15-17"))


def age_band(age: int | None) -> str:
    """The fixed age band of an age ('不明' when unknown, '18+' past 17)."""
    if age is None:
        return "不明"
    for low, high, name in AGE_BANDS:
        if low <= age <= high:
            return name
    return "18+"


@dataclass(frozen=True, slots=True)
class Pupil:
    """A child's place on the month's school roll."""

    school_code: str
    student_no: str
    grade: str


@dataclass(frozen=True, slots=True)
class Scored:
    """An assessment with what the candidate list filters on."""

    assessment: Assessment
    household_id: str
    school_code: str
    grade: str
    age: int | None


@dataclass
class MonthView:
    """Households and facts as of the last day of a month (for all persons, or those loaded)."""

    month: AssessmentMonth
    households: Sequence[Household]  # most recently announced first
    facts: Sequence[Fact]
    _by_person: dict[str, list[Fact]] = field(default_factory=dict, init=False)
    _by_person_kind: dict[tuple[str, str], list[Fact]] = field(default_factory=dict, init=False)
    _home: dict[str, Household] = field(default_factory=dict, init=False)
    # Derived once per view: every rule of a re-score asks for the same populations and subjects.
    _pupils: dict[str, Pupil] | None = field(default=None, init=False)
    _populations: dict[Population, dict[str, Pupil | None]] = field(default_factory=dict, init=False)
    _subjects: dict[str, Subject] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        by_person: dict[str, list[Fact]] = defaultdict(list)
        by_person_kind: dict[tuple[str, str], list[Fact]] = defaultdict(list)
        for fact in self.facts:
            if fact.kind in RESTRICTED_KINDS:
                continue
            for pid in {pid for _, pid in fact.persons}:
                by_person[pid].append(fact)
                by_person_kind[(pid, fact.kind)].append(fact)
        self._by_person = dict(by_person)
        self._by_person_kind = dict(by_person_kind)
        day = self.month.last_day
        for household in self.households:
            for member in household.members:
                # The first (most recent) household listing a person present is their home.
                if member.present_on(day) and member.person_id not in self._home:
                    self._home[member.person_id] = household

    def home(self, person_id: str) -> Household | None:
        """The household a person currently lives in (as a resident), if known."""
        return self._home.get(person_id)

    def facts_of(self, person_id: str) -> list[Fact]:
        """The facts naming a person (tax data excluded)."""
        return self._by_person.get(person_id, [])

    def pupils(self) -> dict[str, Pupil]:
        """Every resident child on the month's school roll, with their place on it."""
        if self._pupils is not None:
            return self._pupils
        found: dict[str, Pupil] = {}
        for fact in self.facts:
            if fact.kind != "school_roll":
                continue
            for role, pid in fact.persons:
                if role == "child" and pid in self._home:
                    found[pid] = Pupil(
                        fact.fields.get("school_code", ""),
                        fact.fields.get("student_no", ""),
                        fact.fields.get("grade", ""),
                    )
        self._pupils = found
        return found

    def population(self, population: Population) -> dict[str, Pupil | None]:
        """Who a rule scores: resident pupils on the roll, or children of the households by age."""
        if population not in self._populations:
            self._populations[population] = self._population(population)
        return self._populations[population]

    def _population(self, population: Population) -> dict[str, Pupil | None]:
        if population.kind == "school_roll":
            return dict(self.pupils())
        pupils = self.pupils()
        chosen: dict[str, Pupil | None] = {}
        day = self.month.last_day
        for household in self.households:
            for child in household.children(as_of=day):
                if self._home.get(child.person_id) is not household:
                    continue
                if population.min_age is not None and (child.age is None or child.age < population.min_age):
                    continue
                if population.max_age is not None and (child.age is None or child.age > population.max_age):
                    continue
                chosen[child.person_id] = pupils.get(child.person_id)
        return chosen

    def subject(self, person_id: str) -> Subject:
        """A child with their family and the facts of everyone the rules may look at."""
        if person_id not in self._subjects:
            self._subjects[person_id] = self._subject(person_id)
        return self._subjects[person_id]

    def _subject(self, person_id: str) -> Subject:
        day = self.month.last_day
        household = self._home.get(person_id)
        parents: tuple[str, ...] = ()
        younger: tuple[str, ...] = ()
        siblings: tuple[str, ...] = ()
        residents: tuple[str, ...] = (person_id,)
        if household is not None:
            parents, younger, siblings = household.family(person_id, as_of=day)
            residents = household.residents(as_of=day)
        persons = {person_id, *parents, *younger, *siblings, *residents}
        return Subject(
            person_id=person_id,
            month=self.month,
            parents=parents,
            younger_siblings=younger,
            siblings=siblings,
            household=residents,
            facts={p: self.facts_of(p) for p in persons},
            facts_by_kind=self._by_person_kind,
        )

    def age(self, person_id: str) -> int | None:
        """A person's age on D, when the birth date fixes it."""
        household = self._home.get(person_id)
        member = household.member(person_id) if household else None
        return member.birth_date.age_on(self.month.last_day) if member else None


def score_view(rule: Rule, view: MonthView, *, only: Iterable[str] | None = None) -> list[Scored]:
    """Score every child the rule's population holds in the view (or only those named)."""
    population = view.population(rule.population)
    wanted = set(only) if only is not None else None
    scored = []
    for person_id in sorted(population):
        if wanted is not None and person_id not in wanted:
            continue
        pupil = population[person_id]
        home = view.home(person_id)
        scored.append(
            Scored(
                assessment=evaluate(rule, view.subject(person_id)),
                household_id=home.household_id if home else "",
                school_code=pupil.school_code if pupil else "",
                grade=pupil.grade if pupil else "",
                age=view.age(person_id),
            )
        )
    return scored
