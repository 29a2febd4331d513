"""docker-compose.yml cannot run here (no Docker engine): check that it is wired as the code expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mimamori.kit.runtime.registry import discover

ROOT = Path(__file__).resolve().parents[2]
MODULES = discover()
SERVICES = sorted(n for n in MODULES if n != "gateway")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in service["environment"].items()}


def test_every_module_is_a_compose_service_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    for name in [*SERVICES, "gateway"]:
        service = compose["services"][name]
        build = service["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()
        assert build["args"]["SERVICE"] == name
        assert env(service)["PORT"] == str(MODULES[name].port if name != "gateway" else 8000)


def test_services_reach_their_own_schema_kafka_and_the_collector(compose: dict[str, Any]) -> None:
    init_sql = (ROOT / "deploy/postgres/init.sql").read_text()
    for name in [*SERVICES, "gateway"]:
        variables = env(compose["services"][name])
        url = variables["MIMAMORI_DATABASE_URL"]
        role = url.split("://", 1)[1].split(":", 1)[0]
        assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
        assert f"CREATE ROLE {role} LOGIN" in init_sql
        owner = "mimamori_audit_owner" if name == "audit" else role
        assert f"CREATE SCHEMA {name} AUTHORIZATION {owner};" in init_sql
        assert variables["MIMAMORI_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert variables["MIMAMORI_OTLP_ENDPOINT"].startswith("http://otel-collector:4318")
        assert variables["MIMAMORI_ENVIRONMENT"] == "production"


def test_start_order_waits_on_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in [*SERVICES, "gateway"]:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["keygen"]["condition"] == "service_completed_successfully"
        assert "healthcheck" in services[name]
    gateway_deps = services["gateway"]["depends_on"]
    assert gateway_deps["keycloak"]["condition"] == "service_healthy"
    for name in SERVICES:
        assert gateway_deps[name]["condition"] == "service_healthy"
    for infrastructure in ("postgres", "kafka", "keycloak"):
        assert "healthcheck" in services[infrastructure]


def test_gateway_knows_every_upstream_and_the_realm(compose: dict[str, Any]) -> None:
    variables = env(compose["services"]["gateway"])
    upstreams = json.loads(variables["MIMAMORI_GATEWAY_UPSTREAMS"])
    assert upstreams == {name: f"http://{name}:{MODULES[name].port}" for name in SERVICES}
    assert variables["MIMAMORI_GATEWAY_ISSUER"] == "http://keycloak:8080/realms/mimamori"
    assert variables["MIMAMORI_GATEWAY_AUDIENCE"] == "mimamori"
    keycloak = compose["services"]["keycloak"]["command"]
    assert "--hostname=http://keycloak:8080" in keycloak and "--import-realm" in keycloak
    assert "MIMAMORI_CONTEXT_PRIVATE_KEY_FILE" in variables
    for name in SERVICES:
        assert "MIMAMORI_CONTEXT_PRIVATE_KEY_FILE" not in env(compose["services"][name])


def test_realm_defines_every_policy_role_with_a_demo_user() -> None:
    realm = json.loads((ROOT / "deploy/keycloak/mimamori-realm.json").read_text())
    policy = yaml.safe_load((ROOT / "gateway/src/mimamori/gateway/policy/policy.yaml").read_text())
    roles = {r["name"] for r in realm["roles"]["realm"]}
    policy_roles = set(policy["roles"]) if isinstance(policy["roles"], dict) else {r["code"] for r in policy["roles"]}
    assert roles == policy_roles
    users = {u["realmRoles"][0] for u in realm["users"]}
    assert users == roles
    mappers = {m["config"].get("claim.name") for s in realm["clientScopes"] for m in s["protocolMappers"]}
    assert {"roles", "org_unit"} <= mappers


def test_collector_exports_traces_to_jaeger(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "deploy/otel/collector.yaml").read_text())
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["otlp/jaeger"]
    assert config["exporters"]["otlp/jaeger"]["endpoint"].startswith("jaeger:")
    assert "jaeger" in compose["services"]


def test_realm_users_work_in_the_same_units_as_the_development_issuer() -> None:
    from mimamori.gateway.adapters.dev_issuer import ORG_UNITS

    realm = json.loads((ROOT / "deploy/keycloak/mimamori-realm.json").read_text())
    assert {u["realmRoles"][0]: u["attributes"]["org_unit"][0] for u in realm["users"]} == ORG_UNITS
