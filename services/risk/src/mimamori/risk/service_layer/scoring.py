"""Scoring: the adopted rules over the read model as of a month, stored with their explanations; threshold
crossings become alerts (risk.alert.v1)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from mimamori.events.risk.v1 import alert_pb2
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.language import Rule, parse_rule
from mimamori.risk.domain.view import MonthView, Scored, score_view
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

log = logging.getLogger("mimamori.risk")
ACTOR = "risk"
PURPOSE = "early_detection"


@lru_cache(maxsize=64)
def rule_of(text: str) -> Rule:
    """A stored rule document, parsed once."""
    return parse_rule(text)


async def seed_rules(texts: Iterable[str], *, uow: RiskUnitOfWork) -> None:
    """Store shipped rule versions not yet stored; the first version of a rule is adopted."""
    async with uow:
        for text in texts:
            rule = rule_of(text)
            if await uow.rules.get(rule.id, rule.version) is not None:
                continue
            adopted = any(v.rule_id == rule.id for v in await uow.rules.adopted())
            await uow.rules.add(
                rule_id=rule.id,
                version=rule.version,
                title=rule.title,
                text=text,
                digest=rule.digest,
                status="draft" if adopted else "adopted",
                by="risk:shipped",
            )
        await uow.commit()


async def adopted_rules(uow: RiskUnitOfWork) -> list[Rule]:
    """The adopted version of each rule."""
    return [rule_of(v.text) for v in sorted(await uow.rules.adopted(), key=lambda v: v.rule_id)]


@dataclass
class Rescored:
    """What a re-score did."""

    month: str
    children: int = 0
    alerts: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


async def rescore(
    uow: RiskUnitOfWork,
    *,
    month: AssessmentMonth,
    touched: Iterable[str] | None = None,
    rules: list[Rule] | None = None,
) -> Rescored:
    """Re-score everyone (touched None: small data only, a full re-score is a run) or the children of the
    households of the touched persons, for one month, in the caller's unit of work; alerts for every band that
    changed, except in a rule's first month ever scored."""
    rules = rules if rules is not None else await adopted_rules(uow)
    await uow.facts.lock_scoring()
    scope: set[str] | None = None
    if touched is not None:
        scope = await uow.facts.household_mates(touched)
        if not scope:
            return Rescored(str(month))
    view = await uow.facts.month_view(month, person_ids=scope)
    report = Rescored(str(month))
    for rule in rules:
        scored = score_view(rule, view, only=scope)
        if scope is None:
            gone = await uow.assessments.scored_ids(rule_id=rule.id, version=rule.version, month=str(month))
        else:
            gone = set(scope)
        gone -= {s.assessment.person_id for s in scored}
        await uow.assessments.remove(rule_id=rule.id, version=rule.version, month=str(month), person_ids=sorted(gone))
        baseline = not await uow.assessments.any_before(rule_id=rule.id, month=str(month))
        report.alerts += await store_scored(uow, rule=rule, month=str(month), scored=scored, alerts=not baseline)
        report.by_rule[rule.id] = len(scored)
        report.children = max(report.children, len(scored))
    log.info("children re-scored", extra={"month": str(month), "children": report.children, "alerts": report.alerts})
    return report


async def store_scored(uow: RiskUnitOfWork, *, rule: Rule, month: str, scored: list[Scored], alerts: bool) -> int:
    """Store assessments in place of the children's stored ones; with `alerts`, every band change is one."""
    raised = await _raise_alerts(uow, rule=rule, month=month, scored=scored) if alerts else 0
    await uow.assessments.replace(rule_id=rule.id, version=rule.version, month=month, scored=scored)
    return raised


async def _raise_alerts(uow: RiskUnitOfWork, *, rule: Rule, month: str, scored: list[Scored]) -> int:
    threshold = rule.alert_at.value if rule.alert_at is not None else None
    previous = await uow.assessments.previous(
        rule_id=rule.id, month=month, person_ids=[s.assessment.person_id for s in scored]
    )
    now = datetime.now(UTC)
    rows = []
    for item in scored:
        new = item.assessment
        before = previous.get(new.person_id)
        old_total = before[1] if before else None
        old_band = _band(before[2], old_total, threshold) if before else 0
        band = new.band(threshold)
        if band == old_band:
            continue
        alert_id = str(uuid.uuid4())
        rows.append(
            {
                "alert_id": alert_id,
                "rule_id": rule.id,
                "rule_version": rule.version,
                "month": month,
                "person_id": new.person_id,
                "previous_band": old_band,
                "band": band,
                "previous_total": old_total,
                "total": new.total,
                "raised_at": now,
            }
        )
        uow.publish(
            alert_pb2.RiskAlertRaised(
                alert_id=alert_id,
                person_id=new.person_id,
                rule_id=rule.id,
                rule_version=rule.version,
                month=month,
                previous_band=old_band,
                band=band,
                has_previous_total=old_total is not None,
                previous_total=old_total or 0,
                has_total=new.total is not None,
                total=new.total or 0,
                threshold=threshold or 0,
                raised_at=now.isoformat(timespec="microseconds"),
            ),
            key=new.person_id,
            actor=ACTOR,
            purpose=PURPOSE,
        )
    await uow.assessments.add_alerts(rows)
    return len(rows)


def _band(candidate: bool, total: int | None, threshold: int | None) -> int:
    if not candidate:
        return 0
    return 2 if threshold is not None and total is not None and total >= threshold else 1


CHUNK_HOUSEHOLDS = 2000


async def views_in_chunks(
    uow: RiskUnitOfWork, month: AssessmentMonth, *, households: int = CHUNK_HOUSEHOLDS
) -> AsyncIterator[tuple[MonthView, set[str]]]:
    """What risk knows as of the month, a chunk of households at a time (memory stays bounded however large the
    town), each with the ids of the chunk's households: a child belongs to the chunk holding its home."""
    cursor = ""
    while ids := await uow.households.ids_after(cursor, limit=households):
        yield await uow.facts.chunk_view(month, after=cursor, upto=ids[-1])
        cursor = ids[-1]


def at_home_in(view: MonthView, chunk: set[str], person_ids: Iterable[str]) -> list[str]:
    """The persons whose home household is in the chunk."""
    return [p for p in person_ids if (home := view.home(p)) is not None and home.household_id in chunk]


async def full_view(uow: RiskUnitOfWork, month: AssessmentMonth) -> MonthView:
    """Everything risk knows as of the month."""
    return await uow.facts.month_view(month)
