"""Exports: one line per scored child of a rule, or the persons on an eligibility list, by 宛名番号."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext
from mimamori.risk.domain.eligibility import Eligibility, Eligible
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.language import Rule
from mimamori.risk.service_layer import scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

SERVICE = "risk"
ELIGIBILITY_PURPOSE = "eligibility_check"


class UnknownRule(LookupError):
    """No adopted rule with this id."""


def _audit(uow: RiskUnitOfWork, context: AccessContext, route: str, person_ids: list[str]) -> None:
    record_access(
        uow,
        access_event(
            recorder=SERVICE,
            context=context,
            action="export",
            method="GET" if route.startswith("/") else "CLI",
            route=route,
            person_ids=person_ids,
        ),
    )


async def rule_rows(
    rule_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork, context: AccessContext, route: str
) -> list[list[str]]:
    """Header and one row per scored child: 宛名番号, each sub-score, total (empty when not a candidate); the
    export is audited (every child in it) in the same unit of work."""
    async with uow:
        rule = await _adopted(rule_id, uow)
        stored = await uow.assessments.of_month(rule_id=rule.id, version=rule.version, month=str(month))
        numbers = await uow.facts.numbers(s.person_id for s in stored)
        _audit(uow, context, route, [s.person_id for s in stored])
        await uow.commit()
    header = ["宛名番号", *[s.id for s in rule.subscores], "total"]
    rows = [
        [
            numbers.get(s.person_id, ""),
            *[str(s.subscores.get(sub.id, "")) for sub in rule.subscores],
            "" if s.total is None else str(s.total),
        ]
        for s in stored
    ]
    return [header, *sorted(rows)]


async def eligibility_rows(
    list_id: str,
    *,
    month: AssessmentMonth,
    uow: RiskUnitOfWork,
    context: AccessContext,
    route: str,
    chunk_households: int = scoring.CHUNK_HOUSEHOLDS,
) -> list[list[str]]:
    """Header and the 宛名番号 of each person on E1/E3 (the parent) or E2 (the child); only under the purpose
    eligibility_check (the one use of tax data), audited in the same unit of work."""
    if context.purpose != ELIGIBILITY_PURPOSE:
        raise PermissionError(context.purpose)
    async with uow:
        eligible = await eligible_persons(list_id, month=month, uow=uow, chunk_households=chunk_households)
        numbers = await uow.facts.numbers(e.person_id for e in eligible)
        _audit(uow, context, route, [e.person_id for e in eligible])
        await uow.commit()
    return [["宛名番号"], *sorted([numbers.get(e.person_id, "")] for e in eligible)]


async def eligible_persons(
    list_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork, chunk_households: int = scoring.CHUNK_HOUSEHOLDS
) -> list[Eligible]:
    """Everyone on an eligibility list, household chunk by household chunk, in the caller's unit of work."""
    found: dict[str, Eligible] = {}
    async for view, chunk in scoring.views_in_chunks(uow, month, households=chunk_households):
        listed = Eligibility(view).list(list_id)
        mine = set(scoring.at_home_in(view, chunk, [e.person_id for e in listed]))
        found.update({e.person_id: e for e in listed if e.person_id in mine})
    return [found[p] for p in sorted(found)]


async def _adopted(rule_id: str, uow: RiskUnitOfWork) -> Rule:
    for rule in await scoring.adopted_rules(uow):
        if rule.id == rule_id:
            return rule
    raise UnknownRule(rule_id)


def as_csv(rows: Sequence[Sequence[str]]) -> str:
    """CSV text (UTF-8, LF)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
