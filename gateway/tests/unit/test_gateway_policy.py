"""The policy file: it loads, it says what the issue asks, and every role x purpose x route decision follows
from it. The expectations below are written out independently of policy.yaml, so an edit there that changes
who may do what fails here until this specification is changed too."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from mimamori.gateway.adapters.policy_file import PolicyError, bundled_policy_text, load_policy, parse_policy
from mimamori.gateway.domain.policy import (
    BREAK_GLASS_NOT_ALLOWED,
    PURPOSE_NOT_ALLOWED,
    PURPOSE_REQUIRED,
    PURPOSE_UNKNOWN,
    ROLE_NOT_ALLOWED,
    Policy,
    PolicyIndex,
)

PURPOSES = {
    "early_detection": "支援対象の早期把握",
    "case_support": "個別ケース支援",
    "policy_statistics": "施策立案のための統計",
    "criteria_design": "判定基準の設計・評価",
    "eligibility_check": "公的サービス受給要件の確認",
    "audit_disclosure": "監査・開示請求対応",
    "system_operation": "システム運用",
}

ROLE_PURPOSES = {
    "caseworker": {"early_detection", "case_support", "eligibility_check", "policy_statistics"},
    "public_health_nurse": {"early_detection", "case_support", "policy_statistics"},
    "midwife": {"case_support"},
    "childcare_worker": {"case_support"},
    "school_social_worker": {"case_support"},
    "education_supervisor": {"early_detection", "case_support", "policy_statistics"},
    "team_leader": {"early_detection", "case_support", "policy_statistics", "eligibility_check"},
    "analyst": {"criteria_design", "policy_statistics"},
    "contractor_analyst": {"criteria_design"},
    "data_officer": {"system_operation"},
    "sysadmin": {"system_operation"},
    "auditor": {"audit_disclosure"},
}

CASE_STAFF = {
    "caseworker",
    "public_health_nurse",
    "midwife",
    "childcare_worker",
    "school_social_worker",
    "team_leader",
}
CASE_ROLES = CASE_STAFF | {"education_supervisor"}
PERSON_PURPOSES = {"case_support", "early_detection", "eligibility_check"}
OPERATORS = {"data_officer", "sysadmin"}

# (method, path) -> (purposes, roles or None for "any role that may use the purpose")
ROUTES: dict[tuple[str, str], tuple[set[str], set[str] | None]] = {
    ("POST", "/api/casework/v1/persons/{person_id}/observations"): ({"case_support"}, CASE_STAFF),
    ("GET", "/api/casework/v1/persons/{person_id}/observations"): ({"case_support"}, CASE_STAFF),
    ("POST", "/api/casework/v1/cases"): ({"early_detection", "case_support"}, CASE_ROLES),
    ("GET", "/api/casework/v1/cases"): ({"case_support"}, CASE_ROLES),
    ("GET", "/api/casework/v1/cases/{case_id}"): ({"case_support"}, CASE_ROLES),
    ("PATCH", "/api/casework/v1/cases/{case_id}"): ({"case_support"}, CASE_ROLES),
    ("POST", "/api/casework/v1/cases/{case_id}/transitions"): ({"case_support"}, CASE_ROLES),
    ("GET", "/api/identity/v1/persons"): (PERSON_PURPOSES, None),
    ("GET", "/api/identity/v1/persons/{person_id}"): (PERSON_PURPOSES, None),
    ("POST", "/api/ingest/v1/files"): ({"system_operation"}, OPERATORS),
    ("GET", "/api/ingest/v1/load-runs"): ({"system_operation"}, OPERATORS),
    ("GET", "/api/ingest/v1/load-runs/{run_id}"): ({"system_operation"}, OPERATORS),
    ("GET", "/api/ingest/v1/load-runs/{run_id}/quarantine"): ({"system_operation"}, OPERATORS),
    ("GET", "/api/risk/v1/children/{person_id}"): ({"early_detection", "case_support"}, None),
    ("GET", "/api/audit/v1/verify"): ({"audit_disclosure"}, {"auditor"}),
    ("GET", "/api/audit/v1/entries"): ({"audit_disclosure"}, {"auditor"}),
    ("GET", "/api/audit/v1/persons/{person_id}/accesses"): ({"audit_disclosure"}, {"auditor"}),
    ("GET", "/api/audit/v1/actors/{actor}/accesses"): ({"audit_disclosure"}, {"auditor"}),
    ("POST", "/api/audit/v1/checkpoints"): ({"audit_disclosure"}, {"auditor"}),
    ("GET", "/api/audit/v1/checkpoints/latest"): ({"audit_disclosure"}, {"auditor"}),
    ("GET", "/api/audit/v1/reviews/unusual"): ({"audit_disclosure"}, {"auditor"}),
}


def expected_denial(role: str, purpose: str, route: tuple[set[str], set[str] | None]) -> str:
    """'' when allowed: role may use purpose ∧ route admits purpose ∧ route admits role."""
    purposes, roles = route
    if purpose not in ROLE_PURPOSES[role] or purpose not in purposes:
        return PURPOSE_NOT_ALLOWED
    if roles is not None and role not in roles:
        return ROLE_NOT_ALLOWED
    return ""


def spec_of(policy: Policy, method: str, path: str) -> tuple[set[str], set[str] | None]:
    """The route's expectation: from this file when it names the route, else as the YAML says it."""
    if (method, path) in ROUTES:
        return ROUTES[(method, path)]
    rule = next(r for r in policy.routes if (r.method, r.path) == (method, path))
    return set(rule.purposes), set(rule.roles) if rule.roles is not None else None


def test_bundled_policy_registers_the_purposes_and_roles_of_the_plan(policy: Policy) -> None:
    assert {p.code: p.name for p in policy.purposes} == PURPOSES
    assert {role: set(purposes) for role, purposes in policy.role_purposes.items()} == ROLE_PURPOSES
    assert policy.version
    tax = {p.code for p in policy.purposes if p.may_see_tax_data}
    assert tax == {"eligibility_check"}
    assert {p.code for p in policy.purposes if p.pseudonyms_only} == {"criteria_design"}
    assert not next(p for p in policy.purposes if p.code == "system_operation").may_see_personal_content


def test_bundled_policy_has_every_required_route_as_specified(policy: Policy) -> None:
    declared = {(r.method, r.path): (set(r.purposes), set(r.roles) if r.roles else None) for r in policy.routes}
    for key, expected in ROUTES.items():
        assert declared.get(key) == expected, key


@pytest.mark.parametrize("role", sorted(ROLE_PURPOSES))
def test_every_role_purpose_route_decision_follows_the_policy(policy: Policy, role: str) -> None:
    index = PolicyIndex(policy)
    walked = 0
    for route, purpose in itertools.product(index.routes(), sorted(PURPOSES)):
        spec = spec_of(policy, route.rule.method, route.rule.path)
        verdict = index.decide(route=route, roles=frozenset({role}), purpose=purpose, break_glass=False)
        assert verdict.denial == expected_denial(role, purpose, spec), (role, purpose, route.key)
        if verdict.allowed:
            assert (verdict.purpose, verdict.break_glass) == (purpose, False)
        walked += 1
    assert walked == len(policy.routes) * len(PURPOSES)


@pytest.mark.parametrize("role", sorted(ROLE_PURPOSES))
def test_break_glass_is_case_support_for_team_leaders_and_caseworkers_only(policy: Policy, role: str) -> None:
    index = PolicyIndex(policy)
    for route, purpose in itertools.product(index.routes(), sorted(PURPOSES)):
        purposes, _ = spec_of(policy, route.rule.method, route.rule.path)
        verdict = index.decide(route=route, roles=frozenset({role}), purpose=purpose, break_glass=True)
        if purpose not in ROLE_PURPOSES[role] or purpose not in purposes:
            assert verdict.denial == PURPOSE_NOT_ALLOWED, (role, purpose, route.key)
        elif role in ("team_leader", "caseworker") and purpose == "case_support":
            assert verdict.allowed and verdict.break_glass, (role, purpose, route.key)
        else:
            assert verdict.denial == BREAK_GLASS_NOT_ALLOWED, (role, purpose, route.key)


def test_break_glass_opens_a_route_whose_roles_exclude_the_caseworker(policy: Policy) -> None:
    data = yaml.safe_load(bundled_policy_text())
    data["routes"].append(
        {
            "service": "casework",
            "method": "GET",
            "path": "/api/casework/v1/persons/{person_id}/health-checks",
            "purposes": ["case_support", "early_detection"],
            "roles": ["public_health_nurse", "midwife"],
            "personal": True,
        }
    )
    index = PolicyIndex(Policy.model_validate(data))
    match = index.match("GET", "/api/casework/v1/persons/p-1/health-checks")
    assert match is not None
    route = match.route
    caseworker = frozenset({"caseworker"})
    assert index.decide(route=route, roles=caseworker, purpose="case_support", break_glass=False).denial == (
        ROLE_NOT_ALLOWED
    )
    opened = index.decide(route=route, roles=caseworker, purpose="case_support", break_glass=True)
    assert opened.allowed and opened.break_glass
    assert index.decide(route=route, roles=caseworker, purpose="early_detection", break_glass=True).denial == (
        BREAK_GLASS_NOT_ALLOWED
    )
    assert index.decide(route=route, roles=frozenset({"midwife"}), purpose="case_support", break_glass=True).denial == (
        BREAK_GLASS_NOT_ALLOWED
    )


def test_personal_route_requires_a_declared_purpose_and_a_registered_one(policy: Policy) -> None:
    index = PolicyIndex(policy)
    match = index.match("GET", "/api/identity/v1/persons")
    assert match is not None
    caseworker = frozenset({"caseworker"})
    assert index.decide(route=match.route, roles=caseworker, purpose=None, break_glass=False).denial == (
        PURPOSE_REQUIRED
    )
    assert index.decide(route=match.route, roles=caseworker, purpose="curiosity", break_glass=False).denial == (
        PURPOSE_UNKNOWN
    )


def test_route_without_personal_data_infers_the_only_purpose_that_fits(policy: Policy) -> None:
    index = PolicyIndex(policy)
    runs = index.match("GET", "/api/ingest/v1/load-runs")
    quarantine = index.match("GET", "/api/ingest/v1/load-runs/r-1/quarantine")
    assert runs is not None and quarantine is not None
    officer = frozenset({"data_officer"})
    inferred = index.decide(route=runs.route, roles=officer, purpose=None, break_glass=False)
    assert (inferred.denial, inferred.purpose) == ("", "system_operation")
    assert index.decide(route=quarantine.route, roles=officer, purpose=None, break_glass=False).denial == (
        PURPOSE_REQUIRED
    )
    caseworker = frozenset({"caseworker"})
    assert index.decide(route=runs.route, roles=caseworker, purpose=None, break_glass=False).denial == (
        PURPOSE_REQUIRED
    )


def test_several_roles_add_up_their_purposes(policy: Policy) -> None:
    index = PolicyIndex(policy)
    match = index.match("GET", "/api/audit/v1/verify")
    assert match is not None
    both = frozenset({"sysadmin", "auditor"})
    assert index.decide(route=match.route, roles=both, purpose="audit_disclosure", break_glass=False).allowed
    assert not index.decide(route=match.route, roles=frozenset(), purpose="audit_disclosure", break_glass=False).allowed


@pytest.mark.parametrize(
    ("method", "path", "route", "params"),
    [
        ("GET", "/api/identity/v1/persons", "/api/identity/v1/persons", {}),
        ("GET", "/api/identity/v1/persons/p-1", "/api/identity/v1/persons/{person_id}", {"person_id": "p-1"}),
        (
            "POST",
            "/api/casework/v1/persons/p-1/observations",
            "/api/casework/v1/persons/{person_id}/observations",
            {"person_id": "p-1"},
        ),
        (
            "GET",
            "/api/audit/v1/actors/a-9/accesses",
            "/api/audit/v1/actors/{actor}/accesses",
            {"actor": "a-9"},
        ),
    ],
)
def test_paths_match_their_templates(
    policy: Policy, method: str, path: str, route: str, params: dict[str, str]
) -> None:
    match = PolicyIndex(policy).match(method, path)
    assert match is not None
    assert (match.route.rule.path, match.params) == (route, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/identity/v1/persons/p-1"),
        ("GET", "/api/identity/v1/persons/p-1/extra"),
        ("GET", "/api/identity/v1/persons/"),
        ("GET", "/api/identity/v1"),
        ("GET", "/api/gateway/v1/persons"),
        ("GET", "/api/casework/v1/persons/../observations"),
        ("GET", "/api/casework/v1/persons/./observations"),
        ("GET", "/api/casework/v1/persons//observations"),
    ],
)
def test_unknown_and_dot_segment_paths_match_nothing(policy: Policy, method: str, path: str) -> None:
    assert PolicyIndex(policy).match(method, path) is None


def test_literal_route_wins_over_a_template_of_the_same_shape(policy: Policy) -> None:
    data = yaml.safe_load(bundled_policy_text())
    data["routes"].append(
        {
            "service": "identity",
            "method": "GET",
            "path": "/api/identity/v1/persons/{person_id}/household",
            "purposes": ["case_support"],
            "personal": True,
        }
    )
    data["routes"].append(
        {
            "service": "identity",
            "method": "GET",
            "path": "/api/identity/v1/persons/review-queue/household",
            "purposes": ["case_support"],
            "roles": ["team_leader"],
            "personal": True,
        }
    )
    index = PolicyIndex(Policy.model_validate(data))
    literal = index.match("GET", "/api/identity/v1/persons/review-queue/household")
    assert literal is not None and literal.route.rule.roles == ("team_leader",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["role_purposes"]["midwife"].append("gossip"),
            "role_purposes[midwife] names unknown purpose",
        ),
        (lambda d: d["role_purposes"].pop("auditor"), "role_purposes lacks role(s): ['auditor']"),
        (lambda d: d["routes"][0].update(roles=["janitor"]), "unknown role(s) ['janitor']"),
        (lambda d: d["routes"][0].update(purposes=["gossip"]), "unknown purpose(s) ['gossip']"),
        (lambda d: d["routes"][0].update(path="/api/identity/v1/x"), "path must start with /api/casework/"),
        (lambda d: d["routes"].append(dict(d["routes"][0])), "declared twice"),
        (lambda d: d["routes"][0].update(method="TRACE"), "routes.0.method"),
        (lambda d: d.pop("version"), "version: Field required"),
        (lambda d: d["purposes"].append(dict(d["purposes"][0])), "duplicate purpose code(s)"),
        (lambda d: d["break_glass"].update(roles=["nobody"]), "break_glass names unknown code(s)"),
        (lambda d: d["routes"][0].update(colour="red"), "routes.0.colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_policy_fails_to_load_naming_the_problem(change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(bundled_policy_text())
    change(data)
    with pytest.raises(PolicyError) as raised:
        parse_policy(yaml.safe_dump(data, allow_unicode=True), source="test.yaml")
    assert "policy test.yaml is invalid" in str(raised.value)
    assert message in str(raised.value)


def test_policy_that_is_not_yaml_fails_to_load() -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("version: [unclosed", source="broken.yaml")


def test_policy_file_from_settings_is_read_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    data = yaml.safe_load(bundled_policy_text())
    data["version"] = "2099.9"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_policy(path).version == "2099.9"
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "absent.yaml")
