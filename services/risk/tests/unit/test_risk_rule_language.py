"""The rule language: validation errors staff can act on, and how sub-scores combine."""

from __future__ import annotations

import pytest

from mimamori.risk.domain.facts import Fact, Origin
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.engine import Subject, evaluate
from mimamori.risk.domain.rules.language import RuleInvalid, parse_rule

RULE = """
rule: demo
version: 1
title: demo
population: {kind: school_roll}
parameters:
  tardies: {value: 3}
gate: {subscores: [a], min: 1}
subscores:
  - id: a
    title: a
    combine: max_plus_sum
    items:
      - {id: x1, group: g, title: x1, points: 1, when: {fact: {kind: certificate, of: parents}}}
      - {id: x2, group: g, title: x2, points: 1, when: {family: {single_parent: true}}}
      - id: c
        title: c
        points: 1
        when:
          count:
            select: {kind: attendance, of: child, match: {mark: 遅刻}, distinct: [date, mark]}
            window: assessment_month
            at_least: {param: tardies}
  - id: d
    title: d
    combine: combination
    none_points: 10
    items:
      - {id: d1, title: d1, points: 1, when: {fact: {kind: nurse_room_visit, of: child, window: last_12_months}}}
"""


def fact(key: str, kind: str, person: str, **fields: str) -> Fact:
    return Fact(key, kind, fields, Origin("src", "src_202604.csv", 1), (("subject", person),))


def test_a_group_counts_once_and_none_of_the_combination_gives_ten() -> None:
    rule = parse_rule(RULE)
    subject = Subject(
        person_id="c1",
        month=AssessmentMonth.parse("202604"),
        parents=("p1",),
        facts={"p1": [fact("k1", "certificate", "p1")]},
    )
    result = evaluate(rule, subject)
    assert result.subscores == {"a": 1, "d": 10}
    assert result.total == 11
    item = result.explanation["subscores"][0]["items"][0]
    assert item["facts"][0]["file"] == "src_202604.csv"


def test_duplicate_marks_count_once_and_the_gate_keeps_non_candidates_out() -> None:
    rule = parse_rule(RULE)
    marks = [
        fact(f"m{i}", "attendance", "c1", date=day, mark="遅刻")
        for i, day in enumerate(["2026-04-01", "2026-04-01", "2026-04-02"])
    ]
    subject = Subject(person_id="c1", month=AssessmentMonth.parse("202604"), parents=("p1", "p2"), facts={"c1": marks})
    result = evaluate(rule, subject)
    assert not result.candidate and result.total is None


def test_errors_name_where_and_what() -> None:
    broken = RULE.replace("kind: certificate", "kind: tax_status").replace("{param: tardies}", "{param: nope}")
    with pytest.raises(RuleInvalid) as caught:
        parse_rule(broken)
    text = "\n".join(caught.value.errors)
    assert "tax_status" in text
    with pytest.raises(RuleInvalid) as again:
        parse_rule(RULE.replace("combine: combination", "combine: product"))
    assert any("subscores[1].combine" in e for e in again.value.errors)


def test_a_parameter_must_be_defined() -> None:
    with pytest.raises(RuleInvalid) as caught:
        parse_rule(RULE.replace("{param: tardies}", "{param: nope}"))
    assert any("nope" in e for e in caught.value.errors)
