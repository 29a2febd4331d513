"""The combined OpenAPI document: the routed operations under /api/<service>, components merged without
collisions, the bearer scheme and the X-Purpose header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from mimamori.gateway.bootstrap import Gateway
from mimamori.gateway.domain.policy import Policy, PolicyIndex
from mimamori.gateway.entrypoints.api.openapi import combine


def service_documents() -> dict[str, dict[str, Any]]:
    """Two services that both call a schema `Item`, differently, and share FastAPI's validation schemas."""

    class Item(BaseModel):
        person_id: str

    class Page(BaseModel):
        items: list[Item]

    casework = FastAPI()

    @casework.get("/v1/persons/{person_id}/observations", response_model=Page, operation_id="read_observations")
    async def read(person_id: str, limit: int = 10) -> Page:
        return Page(items=[])

    return {"casework": casework.openapi(), "identity": identity_document()}


def identity_document() -> dict[str, Any]:
    class Item(BaseModel):
        atena_no: str
        kana: str

    identity = FastAPI()

    @identity.get("/v1/persons/{id}", response_model=Item, operation_id="read_person")
    async def person(id: str) -> Item:
        return Item(atena_no="", kana="")

    @identity.get("/v1/internal")
    async def internal() -> dict[str, str]:
        return {}

    return identity.openapi()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_routed_operations_appear_under_their_prefix_and_nothing_else(policy: Policy) -> None:
    document = combine(service_documents(), policy=PolicyIndex(policy), issuer="http://localhost:8000/dev-oidc")
    paths = document["paths"]
    assert set(paths) == {r.path for r in policy.routes}
    assert not any(p.startswith("/v1") or p.endswith("/internal") for p in paths)
    read = paths["/api/casework/v1/persons/{person_id}/observations"]["get"]
    assert read["operationId"] == "casework_read_observations"
    assert read["x-mimamori-policy"]["purposes"] == ["case_support"]
    person = paths["/api/identity/v1/persons/{person_id}"]["get"]
    assert person["operationId"] == "identity_read_person"  # matched although the service names it {id}
    undocumented = paths["/api/risk/v1/children/{person_id}"]["get"]
    assert undocumented["x-mimamori-undocumented"] is True


def test_clashing_component_names_are_kept_apart_and_every_reference_resolves(policy: Policy) -> None:
    document = combine(service_documents(), policy=PolicyIndex(policy), issuer=None)
    schemas = document["components"]["schemas"]
    casework_item = resolve(document, "#/components/schemas/Item")
    identity_item = schemas["identity_Item"]
    assert set(casework_item["properties"]) == {"person_id"}
    assert set(identity_item["properties"]) == {"atena_no", "kana"}
    person = document["paths"]["/api/identity/v1/persons/{person_id}"]["get"]
    assert refs(person["responses"]["200"]) == ["#/components/schemas/identity_Item"]
    assert "identity_HTTPValidationError" not in schemas  # identical definitions are shared
    for ref in refs(document):
        assert resolve(document, ref) is not None, ref


def test_bearer_scheme_and_purpose_header_are_declared(policy: Policy) -> None:
    document = combine(service_documents(), policy=PolicyIndex(policy), issuer="http://localhost:8000/dev-oidc")
    components = document["components"]
    assert components["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "OIDC access token of the town's identity provider",
    }
    assert components["securitySchemes"]["oidc"]["openIdConnectUrl"].endswith("/.well-known/openid-configuration")
    assert document["security"] == [{"bearer": []}]
    purpose = components["parameters"]["XPurpose"]
    assert (purpose["in"], purpose["name"], purpose["required"]) == ("header", "X-Purpose", True)
    assert set(purpose["schema"]["enum"]) == {p.code for p in policy.purposes}
    for rule in policy.routes:
        operation = document["paths"][rule.path][rule.method.lower()]
        declared = [p["$ref"] for p in operation["parameters"] if "$ref" in p]
        expected = "#/components/parameters/XPurpose" if rule.personal else "#/components/parameters/XPurposeOptional"
        assert expected in declared, rule.path
        assert operation["security"] == [{"bearer": []}]
    verify = document["paths"]["/api/audit/v1/verify"]["get"]
    assert "#/components/parameters/XBreakGlass" not in [p.get("$ref") for p in verify["parameters"]]
    assert document["info"]["version"] == policy.version


async def test_gateway_serves_the_combined_document_of_its_in_process_services(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(services=("casework", "identity"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://gateway") as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["x-mimamori-services"] == ["casework", "identity"]
    observations = document["paths"]["/api/casework/v1/persons/{person_id}/observations"]
    assert set(observations) == {"get", "post"}
    assert "x-mimamori-undocumented" not in observations["get"]
    assert document["paths"]["/api/audit/v1/verify"]["get"]["x-mimamori-undocumented"] is True
