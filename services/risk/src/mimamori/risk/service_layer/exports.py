"""Exports: one line per scored child of a rule, or the persons on an eligibility list, by 宛名番号."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from mimamori.risk.domain.eligibility import Eligibility
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.language import Rule
from mimamori.risk.service_layer import scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork


class UnknownRule(LookupError):
    """No adopted rule with this id."""


async def rule_rows(rule_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork) -> list[list[str]]:
    """Header and one row per scored child: 宛名番号, each sub-score, total (empty when not a candidate)."""
    async with uow:
        rule = await _adopted(rule_id, uow)
        stored = await uow.assessments.list(rule_id=rule.id, version=rule.version, month=str(month))
        numbers = await uow.facts.numbers(s.person_id for s in stored)
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


async def eligibility_rows(list_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork) -> list[list[str]]:
    """Header and the 宛名番号 of each person on E1/E3 (the parent) or E2 (the child)."""
    async with uow:
        view = await scoring.full_view(uow, month)
        eligible = Eligibility(view).list(list_id)
        numbers = await uow.facts.numbers(e.person_id for e in eligible)
    return [["宛名番号"], *sorted([numbers.get(e.person_id, "")] for e in eligible)]


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
