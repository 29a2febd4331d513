"""Reads behind the front end: candidates, one child's months, aggregates with small cells suppressed, the
alert feed, rule versions (draft, dry-run, adopt), eligibility lists. Personal reads are audited."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext
from mimamori.risk.adapters.assessments import StoredAssessment
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.language import Rule, parse_rule
from mimamori.risk.domain.statistics import Indicators
from mimamori.risk.domain.view import age_band, score_view
from mimamori.risk.service_layer import exports, rescore_runs, scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

SERVICE = "risk"
MIN_CELL = 5
GROUPINGS = ("town", "school", "grade", "age_band", "district")


class NotFound(LookupError):
    """No such rule, version or child."""


def pseudonym(person_id: str, *, key: str) -> str:
    """A stable pseudonym for criteria design (keyed hash; the key never leaves risk)."""
    return "P" + hmac.new(key.encode(), person_id.encode(), hashlib.sha256).hexdigest()[:16]


def _audit(uow: RiskUnitOfWork, context: AccessContext, route: str, person_ids: list[str], status: int = 200) -> None:
    record_access(
        uow,
        access_event(
            recorder=SERVICE,
            context=context,
            action="read",
            method="GET",
            route=route,
            person_ids=person_ids,
            status_code=status,
        ),
    )


async def _rule(uow: RiskUnitOfWork, rule_id: str) -> Rule:
    for rule in await scoring.adopted_rules(uow):
        if rule.id == rule_id:
            return rule
    raise NotFound(rule_id)


@dataclass
class Page:
    """One page of a list, with the status of each listed child's open case (absent: none)."""

    total: int
    items: list[StoredAssessment]
    open_cases: dict[str, str] = field(default_factory=dict)


async def candidates(
    *,
    rule_id: str,
    month: AssessmentMonth,
    filters: dict[str, Any],
    page: int,
    size: int,
    uow: RiskUnitOfWork,
    context: AccessContext,
    route: str,
) -> Page:
    """Candidates of a month under the adopted version, filtered (band, school, grade, age band, district, already a
    case or not: `case` = open | none) and paged; each with the status of the child's open case, if any."""
    async with uow:
        rule = await _rule(uow, rule_id)
        stored = await uow.assessments.of_month(
            rule_id=rule.id, version=rule.version, month=str(month), candidates_only=True
        )
        districts = await uow.facts.districts() if filters.get("district") else {}
        open_cases = await uow.cases.open_by_person()
        chosen = [
            s
            for s in stored
            if _keep(s, filters) and _in_district(s, filters, districts) and _case_kept(s, filters, open_cases)
        ]
        chosen.sort(key=lambda s: (-(s.total or 0), s.person_id))
        items = chosen[(page - 1) * size : page * size]
        _audit(uow, context, route, [s.person_id for s in items])
        await uow.commit()
    shown = {s.person_id: open_cases[s.person_id] for s in items if s.person_id in open_cases}
    return Page(total=len(chosen), items=items, open_cases=shown)


def _case_kept(s: StoredAssessment, filters: dict[str, Any], open_cases: dict[str, str]) -> bool:
    wanted = filters.get("case")
    return not wanted or (s.person_id in open_cases) == (wanted == "open")


def _in_district(s: StoredAssessment, filters: dict[str, Any], districts: dict[str, str]) -> bool:
    return not filters.get("district") or districts.get(s.person_id, "不明") == filters["district"]


def _keep(s: StoredAssessment, filters: dict[str, Any]) -> bool:
    if filters.get("min_total") is not None and (s.total or 0) < filters["min_total"]:
        return False
    if filters.get("max_total") is not None and (s.total or 0) > filters["max_total"]:
        return False
    if filters.get("school") and s.school_code != filters["school"]:
        return False
    if filters.get("grade") and s.grade != filters["grade"]:
        return False
    return not (filters.get("age_band") and age_band(s.age) != filters["age_band"])


async def child_history(
    person_id: str, *, uow: RiskUnitOfWork, context: AccessContext, route: str
) -> list[StoredAssessment]:
    """A child's assessments (every adopted rule, every month), explanations included."""
    async with uow:
        versions = {r.id: r.version for r in await scoring.adopted_rules(uow)}
        found = await uow.assessments.history(person_id, versions=versions)
        _audit(uow, context, route, [person_id], 200 if found else 404)
        await uow.commit()
    if not found:
        raise NotFound(person_id)
    return found


async def aggregate(
    *, rule_id: str, month: AssessmentMonth, group_by: str, uow: RiskUnitOfWork
) -> list[dict[str, Any]]:
    """Scored children and candidates per fixed group; a cell under 5 is suppressed, and so is the smallest
    other cell of the grouping whenever one is, so no cell is recovered from the town total by differencing."""
    async with uow:
        rule = await _rule(uow, rule_id)
        stored = await uow.assessments.of_month(rule_id=rule.id, version=rule.version, month=str(month))
        districts = await uow.facts.districts() if group_by == "district" else {}

    def key(s: StoredAssessment) -> str:
        if group_by == "district":
            return districts.get(s.person_id, "不明")
        if group_by == "school":
            return s.school_code or "不明"
        if group_by == "grade":
            return s.grade or "不明"
        if group_by == "age_band":
            return age_band(s.age)
        return "town"

    scored = Counter(key(s) for s in stored)
    candidates = Counter(key(s) for s in stored if s.candidate)
    cells = []
    for measure in (scored, candidates):
        counts = {g: measure.get(g, 0) for g in scored}
        hidden = {g for g, n in counts.items() if n < MIN_CELL}
        if len(hidden) == 1 and len(counts) > 1:
            # Complementary suppression: one hidden cell would follow from the total minus the others.
            rest = sorted((n, g) for g, n in counts.items() if g not in hidden)
            hidden.add(rest[0][1])
        cells.append(hidden)
    return [
        {
            "group": g,
            "scored": None if g in cells[0] else scored[g],
            "candidates": None if g in cells[1] else candidates.get(g, 0),
            "suppressed": g in cells[0] or g in cells[1],
        }
        for g in sorted(scored)
    ]


async def correlations(*, month: AssessmentMonth, level: str, uow: RiskUnitOfWork) -> dict[str, Any]:
    """Co-occurrence and phi between indicators (each rule's candidacy, its sub-scores above zero, or its items
    that gave points) across the month's scored children; small cells suppressed (see domain/statistics.py)."""
    indicators = Indicators()
    async with uow:
        rules = await scoring.adopted_rules(uow)
        for rule in rules:
            stored = await uow.assessments.of_month(rule_id=rule.id, version=rule.version, month=str(month))
            for s in stored:
                values = {rule.id: s.candidate}
                if level in ("subscore", "item"):
                    values |= {f"{rule.id}.{sub}": score > 0 for sub, score in s.subscores.items()}
                if level == "item":
                    values |= {
                        f"{rule.id}.{item['id']}": bool(item["awarded"])
                        for node in s.explanation.get("subscores", [])
                        for item in node.get("items", [])
                    }
                indicators.add(s.person_id, values)
    return {
        "indicators": [
            {"indicator": c.indicator, "children": c.children, "holds": c.holds}
            for c in indicators.counts(min_cell=MIN_CELL)
        ],
        "pairs": [
            {
                "first": p.first,
                "second": p.second,
                "children": p.children,
                "both": p.both,
                "phi": p.phi,
                "suppressed": p.suppressed,
            }
            for p in indicators.pairs(min_cell=MIN_CELL)
        ],
    }


async def alerts(
    *, after: int, limit: int, rule_id: str | None, uow: RiskUnitOfWork, context: AccessContext, route: str
) -> list[Any]:
    """The alert feed after a sequence number."""
    async with uow:
        rows = await uow.assessments.alerts(after=after, limit=limit, rule_id=rule_id)
        _audit(uow, context, route, [r.person_id for r in rows])
        await uow.commit()
    return rows


async def add_draft(rule_id: str, *, text: str, uow: RiskUnitOfWork, by: str) -> Rule:
    """Store a new draft version of a rule (validated; its version number is the next free one)."""
    rule = parse_rule(text)
    if rule.id != rule_id:
        raise ValueError("rule id mismatch")
    async with uow:
        version = await uow.rules.next_version(rule_id)
        if rule.version != version:
            raise ValueError(f"version must be {version}")
        await uow.rules.add(
            rule_id=rule_id, version=version, title=rule.title, text=text, digest=rule.digest, status="draft", by=by
        )
        await uow.commit()
    return rule


async def dry_run(rule_id: str, version: int, *, month: AssessmentMonth, uow: RiskUnitOfWork) -> dict[str, Any]:
    """Run a stored (draft) version on current data: who would enter, leave or change, against the adopted one."""
    async with uow:
        row = await uow.rules.get(rule_id, version)
        if row is None:
            raise NotFound(f"{rule_id}/{version}")
        current = await _rule(uow, rule_id)
        draft = scoring.rule_of(row.text)
        stored = {
            s.person_id: s
            for s in await uow.assessments.of_month(rule_id=rule_id, version=current.version, month=str(month))
        }
        new = {}
        async for view, chunk in scoring.views_in_chunks(uow, month):
            mine = scoring.at_home_in(view, chunk, view.population(draft.population))
            new.update({s.assessment.person_id: s.assessment for s in score_view(draft, view, only=mine)})
    entered = sorted(p for p, a in new.items() if a.candidate and not (p in stored and stored[p].candidate))
    left = sorted(p for p, s in stored.items() if s.candidate and not (p in new and new[p].candidate))
    changed = sorted(
        p for p, a in new.items() if a.candidate and p in stored and stored[p].candidate and stored[p].total != a.total
    )
    return {
        "rule": rule_id,
        "draft_version": version,
        "adopted_version": current.version,
        "month": str(month),
        "entered": entered,
        "left": left,
        "changed": changed,
    }


async def adopt(rule_id: str, version: int, *, month: AssessmentMonth | None, uow: RiskUnitOfWork) -> str | None:
    """Adopt a version and schedule the re-score of everyone with it (the latest month); the run's id."""
    async with uow:
        if await uow.rules.get(rule_id, version) is None:
            raise NotFound(f"{rule_id}/{version}")
        await uow.rules.adopt(rule_id, version)
        latest = month or (AssessmentMonth.parse(m) if (m := await uow.facts.latest_month()) else None)
        run_id = None
        if latest is not None:
            run_id = await rescore_runs.schedule(
                uow, month=str(latest), reason="rule_adopted", rules=[(rule_id, version)]
            )
        await uow.commit()
    return run_id


async def eligibility(
    list_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork, context: AccessContext, route: str
) -> list[dict[str, Any]]:
    """An eligibility list with the reasons and the tax rows behind them (purpose eligibility_check only)."""
    async with uow:
        found = await exports.eligible_persons(list_id, month=month, uow=uow)
        numbers = await uow.facts.numbers(e.person_id for e in found)
        _audit(uow, context, route, [e.person_id for e in found])
        await uow.commit()
    return [
        {
            "person_id": e.person_id,
            "atena_no": numbers.get(e.person_id, ""),
            "children": list(e.children),
            "reasons": list(e.reasons),
            "tax": list(e.tax),
        }
        for e in found
    ]
