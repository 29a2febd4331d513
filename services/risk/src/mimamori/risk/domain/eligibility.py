"""Eligible but not receiving (検証項目 2①): E1 児童扶養手当, E2 就学援助, E3 ひとり親医療費助成.

Only the purpose eligibility_check may see these lists: they are the one use of tax data (住民税 課税区分).
Conventions as the young-carer rule: D = last day of the month; 喪失日/資格喪失日 exclusive ends.
Tax status = the person's 課税区分 in the latest 年度 present as of the month; no row there = not 非課税.
A 児童 (E1, E3) is a 子 or 孫 of the household until the first 31 March after the day before the 18th
birthday (the 児童扶養手当 definition), and the parent must be that child's only parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from mimamori.risk.domain.facts import Fact
from mimamori.risk.domain.household import BirthDate
from mimamori.risk.domain.view import MonthView

LISTS = {
    "E1": "児童扶養手当: ひとり親・非課税で受給資格がない",
    "E2": "就学援助: 親がすべて非課税で今年度の認定がない",
    "E3": "ひとり親医療費助成: ひとり親・非課税または均等割のみで助成がない",
}
NON_TAXABLE = "非課税"
PER_CAPITA_ONLY = "均等割のみ"


@dataclass(frozen=True, slots=True)
class Eligible:
    """One person on a list (the parent for E1/E3, the child for E2) and why."""

    list_id: str
    person_id: str
    children: tuple[str, ...]
    reasons: tuple[str, ...] = field(default=())
    tax: tuple[dict[str, object], ...] = field(default=())


def is_jidou_on(birth: BirthDate, day: date) -> bool:
    """児童 on `day`: born, and not past the first 31 March after the day before the 18th birthday."""
    if birth.earliest is None or birth.latest is None or birth.latest > day:
        return False
    return day <= _jidou_end(birth.earliest)


def _jidou_end(born: date) -> date:
    try:
        eighteenth = born.replace(year=born.year + 18)
    except ValueError:  # 29 February
        eighteenth = date(born.year + 18, 3, 1)
    eve = eighteenth - timedelta(days=1)
    march = date(eve.year, 3, 31)
    return march if eve <= march else date(eve.year + 1, 3, 31)


def _active(fact: Fact, day: date, *, start: str, end: str) -> bool:
    begun = fact.date(start)
    ended = fact.date(end)
    return (begun is None or begun <= day) and (ended is None or day < ended)


class Eligibility:
    """The three lists for one month, over a view of the whole town (tax facts included)."""

    def __init__(self, view: MonthView) -> None:
        self.view = view
        self.day = view.month.last_day
        taxes = [f for f in view.facts if f.kind == "tax_status"]
        years = [int(f.fields["fiscal_year"]) for f in taxes if f.fields.get("fiscal_year", "").isdigit()]
        self.year = str(max(years)) if years else None
        self.tax: dict[str, Fact] = {}
        for fact in taxes:
            if fact.fields.get("fiscal_year") == self.year:
                for _, pid in fact.persons:
                    self.tax[pid] = fact

    def category(self, person_id: str) -> str:
        """課税区分 of the latest 年度, '' when the person has no row there."""
        fact = self.tax.get(person_id)
        return fact.fields.get("category", "") if fact else ""

    def _tax_evidence(self, person_id: str) -> tuple[dict[str, object], ...]:
        fact = self.tax.get(person_id)
        if fact is None:
            return ()
        return (
            {
                "person_id": person_id,
                "fiscal_year": fact.fields.get("fiscal_year", ""),
                "category": fact.fields.get("category", ""),
                "source": fact.origin.source,
                "file": fact.origin.file,
                "row": fact.origin.row,
            },
        )

    def single_parents(self) -> dict[str, tuple[str, ...]]:
        """Each parent who is the only parent of at least one 児童 in their household, with those 児童."""
        found: dict[str, list[str]] = {}
        for household in self.view.households:
            for member in household.members:
                if member.generation is None or self.view.home(member.person_id) is not household:
                    continue
                if not is_jidou_on(member.birth_date, self.day):
                    continue
                parents, _, _ = household.family(member.person_id, as_of=self.day)
                if len(parents) == 1:
                    found.setdefault(parents[0], []).append(member.person_id)
        return {p: tuple(sorted(c)) for p, c in found.items()}

    def _has(self, person_id: str, *, program: str, role: str | None, status: str | None = None) -> bool:
        for fact in self.view.facts_of(person_id):
            if fact.kind != "entitlement" or fact.fields.get("program") != program:
                continue
            if not fact.names(person_id, role=role):
                continue
            if status is not None and fact.fields.get("status") != status:
                continue
            if _active(fact, self.day, start="start", end="end"):
                return True
        return False

    def e1(self) -> list[Eligible]:
        """ひとり親, parent 非課税, no 児童扶養手当 資格 有 for that parent."""
        result = []
        for parent, children in sorted(self.single_parents().items()):
            if self.category(parent) != NON_TAXABLE:
                continue
            if self._has(parent, program="jidou_fuyou", role="recipient", status="有"):
                continue
            result.append(
                Eligible(
                    "E1", parent, children, ("ひとり親", "非課税", "児童扶養手当 資格なし"), self._tax_evidence(parent)
                )
            )
        return result

    def e3(self) -> list[Eligible]:
        """ひとり親, parent 非課税 or 均等割のみ, no active ひとり親医療費助成 for the parent."""
        result = []
        for parent, children in sorted(self.single_parents().items()):
            category = self.category(parent)
            if category not in (NON_TAXABLE, PER_CAPITA_ONLY):
                continue
            if self._has(parent, program="hitorioya_iryo", role=None):
                continue
            result.append(
                Eligible(
                    "E3", parent, children, ("ひとり親", category, "ひとり親医療費助成なし"), self._tax_evidence(parent)
                )
            )
        return result

    def e2(self) -> list[Eligible]:
        """A scored child with ≥ 1 parent, every parent 非課税, no 就学援助 認定 naming the child this 年度."""
        year = str(self.view.month.school_year)
        result = []
        for child in sorted(self.view.pupils()):
            household = self.view.home(child)
            if household is None:
                continue
            parents, _, _ = household.family(child, as_of=self.day)
            if not parents or any(self.category(p) != NON_TAXABLE for p in parents):
                continue
            aided = any(
                f.kind == "school_aid" and f.fields.get("school_year", "").strip() == year
                for f in self.view.facts_of(child)
            )
            if aided:
                continue
            evidence = tuple(e for p in parents for e in self._tax_evidence(p))
            result.append(Eligible("E2", child, (child,), ("親がすべて非課税", f"{year}年度の就学援助なし"), evidence))
        return result

    def list(self, list_id: str) -> list[Eligible]:
        """One of E1, E2, E3."""
        return {"E1": self.e1, "E2": self.e2, "E3": self.e3}[list_id]()
