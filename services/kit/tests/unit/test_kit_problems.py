"""RFC 9457 problem details: the shape of the body, and that every error of an app becomes one."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from mimamori.kit.problems import PROBLEM_JSON, Problem, install_problem_handlers


def test_a_problem_body_has_type_title_status_code_and_optional_members() -> None:
    problem = Problem(
        status=409, code="case_already_closed", detail="closed on 2026-04-01", extra={"case": "c-1"}
    )
    assert problem.body("/v1/cases/c-1") == {
        "type": "https://mimamori.example/problems/case_already_closed",
        "title": "他の操作と競合しました",
        "status": 409,
        "code": "case_already_closed",
        "detail": "closed on 2026-04-01",
        "instance": "/v1/cases/c-1",
        "case": "c-1",
    }


def test_a_title_given_wins_over_the_status_default_and_unknown_statuses_still_get_one() -> None:
    assert Problem(status=403, code="purpose_not_allowed", title="目的外").body()["title"] == "目的外"
    assert Problem(status=418, code="teapot").body()["title"] == "エラー"
    assert "detail" not in Problem(status=404, code="not_found").body()


class Child(BaseModel):
    name: str
    age: int


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)

    @application.get("/v1/fail")
    async def fail() -> None:
        raise Problem(status=403, code="role_not_allowed", title="この役割ではこの操作はできません")

    @application.post("/v1/children")
    async def create(child: Child) -> dict[str, str]:
        return {"name": child.name}

    return application


async def call(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_a_raised_problem_is_rendered_as_problem_json_with_its_instance() -> None:
    response = await call("GET", "/v1/fail")
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "https://mimamori.example/problems/role_not_allowed",
        "title": "この役割ではこの操作はできません",
        "status": 403,
        "code": "role_not_allowed",
        "instance": "/v1/fail",
    }


async def test_unknown_routes_and_methods_are_problems_too() -> None:
    missing = await call("GET", "/v1/nowhere")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM_JSON)
    assert missing.json()["code"] == "not_found"
    assert missing.json()["title"] == "対象が見つかりません"
    wrong = await call("DELETE", "/v1/fail")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


async def test_validation_errors_name_the_fields_but_never_echo_the_input() -> None:
    response = await call("POST", "/v1/children", json={"name": "山田花子", "age": "生年月日2019-04-01"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e["loc"] for e in body["errors"]] == [["body", "age"]]
    assert set(body["errors"][0]) == {"loc", "msg", "type"}
    assert "山田花子" not in response.text and "2019-04-01" not in response.text
