"""Evaluating a rule for one child as of a month; the result carries its explanation tree.

Tree: total ← sub-scores ← items ← facts (with source, file, row). Every point can be traced to the rows
that gave it; a combination's "none of these" points name the items that found nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from mimamori.risk.domain.facts import Fact
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.language import (
    AllOf,
    AnyOf,
    CountAtLeast,
    FactExists,
    Family,
    FieldMatch,
    Increase,
    NoneOf,
    Rule,
    Select,
    SubScore,
)
from mimamori.risk.domain.rules.language import Condition as RuleCondition


@dataclass(frozen=True, slots=True)
class Subject:
    """A scored child as of a month: the family as the rule reads it, and the facts naming each person."""

    person_id: str
    month: AssessmentMonth
    parents: tuple[str, ...] = ()
    younger_siblings: tuple[str, ...] = ()
    siblings: tuple[str, ...] = ()
    household: tuple[str, ...] = ()
    facts: Mapping[str, Sequence[Fact]] = field(default_factory=dict)
    # The same facts indexed by (person, kind), when the caller has them (a month view builds it once for all).
    facts_by_kind: Mapping[tuple[str, str], Sequence[Fact]] | None = None

    def persons(self, relation: str) -> tuple[str, ...]:
        """The persons a relation names (child, parents, younger_siblings, siblings, household …)."""
        if relation == "child":
            return (self.person_id,)
        if relation == "parents":
            return self.parents
        if relation == "younger_siblings":
            return self.younger_siblings
        if relation == "siblings":
            return self.siblings
        if relation == "child_or_parents":
            return (self.person_id, *self.parents)
        return self.household or (self.person_id,)


@dataclass(frozen=True, slots=True)
class Assessment:
    """A child's score under one rule version for one month."""

    rule_id: str
    rule_version: int
    month: str
    person_id: str
    candidate: bool
    total: int | None
    subscores: dict[str, int]
    explanation: dict[str, Any]

    def band(self, alert_at: int | None) -> int:
        """0 not a candidate, 1 a candidate, 2 a candidate at or above the alert threshold."""
        if not self.candidate:
            return 0
        return 2 if alert_at is not None and self.total is not None and self.total >= alert_at else 1


@lru_cache(maxsize=256)
def window_bounds(window: str, month: AssessmentMonth) -> tuple[date, date]:
    """The first and last day of a window, for the assessment month M."""
    if window == "assessment_month":
        return month.first_day, month.last_day
    if window == "month_before":
        before = month.shift(-1)
        return before.first_day, before.last_day
    if window == "last_12_months":
        return month.shift(-11).first_day, month.last_day
    if window == "school_year":
        return date(month.school_year, 4, 1), month.last_day
    return date.min, month.last_day  # until_D


@dataclass
class _Result:
    holds: bool
    evidence: list[dict[str, Any]]
    note: str = ""


class _Evaluation:
    def __init__(self, rule: Rule, subject: Subject) -> None:
        self.rule = rule
        self.subject = subject
        self.day = subject.month.last_day
        self._of_kind: dict[tuple[str, str], Sequence[Fact]] = {}

    def _facts(self, person: str, kind: str) -> Sequence[Fact]:
        # Items of a rule look at the same few kinds of each person's facts; filter each list once.
        key = (person, kind)
        indexed = self.subject.facts_by_kind
        if indexed is not None and person in self.subject.facts:
            return indexed.get(key, ())
        found = self._of_kind.get(key)
        if found is None:
            found = [f for f in self.subject.facts.get(person, ()) if f.kind == kind]
            self._of_kind[key] = found
        return found

    def run(self) -> Assessment:
        subscores: dict[str, int] = {}
        nodes = []
        for sub in self.rule.subscores:
            score, node = self._subscore(sub)
            subscores[sub.id] = score
            nodes.append(node)
        candidate = True
        gate_node: dict[str, Any] | None = None
        if self.rule.gate is not None:
            gated = sum(subscores[s] for s in self.rule.gate.subscores)
            candidate = gated >= self.rule.gate.min
            gate_node = {
                "subscores": list(self.rule.gate.subscores),
                "sum": gated,
                "min": self.rule.gate.min,
                "passed": candidate,
            }
        total = sum(subscores.values()) if candidate else None
        explanation = {
            "rule": self.rule.id,
            "version": self.rule.version,
            "title": self.rule.title,
            "starting_point": self.rule.starting_point,
            "month": str(self.subject.month),
            "as_of": self.day.isoformat(),
            "candidate": candidate,
            "total": total,
            "gate": gate_node,
            "parameters": dict(self.rule.parameters),
            "family": {
                "parents": list(self.subject.parents),
                "younger_siblings": list(self.subject.younger_siblings),
            },
            "subscores": nodes,
        }
        return Assessment(
            rule_id=self.rule.id,
            rule_version=self.rule.version,
            month=str(self.subject.month),
            person_id=self.subject.person_id,
            candidate=candidate,
            total=total,
            subscores=subscores,
            explanation=explanation,
        )

    def _subscore(self, sub: SubScore) -> tuple[int, dict[str, Any]]:
        items = []
        awarded: list[tuple[str | None, int]] = []
        for item in sub.items:
            result = self._condition(item.when)
            points = item.points.value if result.holds else 0
            awarded.append((item.group, points))
            items.append(
                {
                    "id": item.id,
                    "title": item.title,
                    "group": item.group,
                    "points": item.points.value,
                    "awarded": points,
                    "facts": result.evidence if result.holds else [],
                    "note": result.note,
                }
            )
        none_points = None
        if sub.combine == "max_plus_sum":
            best: dict[str, int] = {}
            loose = 0
            for group, points in awarded:
                if group is None:
                    loose += points
                else:
                    best[group] = max(best.get(group, 0), points)
            score = sum(best.values()) + loose
        else:
            score = sum(points for _, points in awarded)
            if sub.combine == "combination" and score == 0 and sub.none_points is not None:
                none_points = sub.none_points.value
                score = none_points
        node = {
            "id": sub.id,
            "title": sub.title,
            "combine": sub.combine,
            "score": score,
            "none_points_applied": none_points,
            "items": items,
        }
        return score, node

    def _condition(self, condition: RuleCondition) -> _Result:
        if isinstance(condition, FactExists):
            found = self._select(condition.select, condition.select.window)
            return _Result(bool(found), found)
        if isinstance(condition, CountAtLeast):
            found = self._select(condition.select, condition.window or condition.select.window)
            count = _distinct(found, condition.select)
            return _Result(
                count >= condition.at_least.value, found, f"件数 {count} (基準 {condition.at_least.value} 以上)"
            )
        if isinstance(condition, Increase):
            before = self._select(condition.select, condition.since)
            after = self._select(condition.select, condition.to)
            n_before, n_after = _distinct(before, condition.select), _distinct(after, condition.select)
            return _Result(
                n_after - n_before >= condition.at_least.value,
                before + after,
                f"{n_before} → {n_after} (増加 {n_after - n_before}, 基準 {condition.at_least.value} 以上)",
            )
        if isinstance(condition, Family):
            count = len(self.subject.parents)
            holds = True
            if condition.single_parent is not None:
                holds = holds and ((count == 1) == condition.single_parent)
            if condition.parents_at_least is not None:
                holds = holds and count >= condition.parents_at_least
            return _Result(holds, [], f"親 {count} 人")
        if isinstance(condition, AllOf):
            results = [self._condition(c) for c in condition.conditions]
            holds = all(r.holds for r in results)
            return _Result(
                holds, [e for r in results for e in r.evidence], "; ".join(r.note for r in results if r.note)
            )
        if isinstance(condition, AnyOf):
            results = [self._condition(c) for c in condition.conditions]
            holding = [r for r in results if r.holds]
            return _Result(bool(holding), [e for r in holding for e in r.evidence])
        if isinstance(condition, NoneOf):
            inner = self._condition(condition.condition)
            return _Result(not inner.holds, [], "否定")
        raise TypeError(type(condition).__name__)

    def _select(self, select: Select, window: str | None) -> list[dict[str, Any]]:
        seen: set[str] = set()
        found: list[dict[str, Any]] = []
        bounds = window_bounds(window, self.subject.month) if window else None
        for person in self.subject.persons(select.of):
            for fact in self._facts(person, select.kind):
                if fact.record_key in seen:
                    continue
                if select.role is not None and not fact.names(person, role=select.role):
                    continue
                if select.match and not all(_matches(fact, m) for m in select.match):
                    continue
                if select.active is not None and not self._active(fact, select):
                    continue
                if bounds is not None:
                    day = fact.date(select.date)
                    if day is None or not bounds[0] <= day <= bounds[1]:
                        continue
                seen.add(fact.record_key)
                found.append(_evidence(fact, person=person, relation=select.of))
        return found

    def _active(self, fact: Fact, select: Select) -> bool:
        active = select.active
        assert active is not None
        if active.start:
            start = fact.date(active.start)
            if start is not None and start > self.day:
                return False
        if active.end:
            end = fact.date(active.end)
            if end is None:
                return True
            if active.end_is == "exclusive":
                return self.day < end
            if active.end_is == "inclusive_month":
                return (self.day.year, self.day.month) <= (end.year, end.month)
            return self.day <= end
        return True


def _matches(fact: Fact, match: FieldMatch) -> bool:
    value = fact.fields.get(match.name, "")
    if match.values:
        return value in match.values
    try:
        number = int(value)
    except ValueError:
        return False
    if match.at_least is not None and number < match.at_least.value:
        return False
    return not (match.at_most is not None and number > match.at_most.value)


def _distinct(found: list[dict[str, Any]], select: Select) -> int:
    if not select.distinct:
        return len({e["record_key"] for e in found})
    return len({tuple(e["fields"].get(name, "") for name in select.distinct) for e in found})


def _evidence(fact: Fact, *, person: str, relation: str) -> dict[str, Any]:
    return {
        "record_key": fact.record_key,
        "kind": fact.kind,
        "source": fact.origin.source,
        "file": fact.origin.file,
        "row": fact.origin.row,
        "person_id": person,
        "relation": relation,
        "fields": dict(fact.fields),
    }


def evaluate(rule: Rule, subject: Subject) -> Assessment:
    """Score one child under one rule version, with the explanation tree."""
    return _Evaluation(rule, subject).run()
