"""RFC 9457 problem details: a machine-readable `code` and, for staff, a Japanese `title`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

TITLES: dict[int, str] = {
    400: "リクエストの内容に誤りがあります",
    401: "認証が必要です",
    403: "この操作は許可されていません",
    404: "対象が見つかりません",
    409: "他の操作と競合しました",
    413: "ファイルが大きすぎます",
    422: "入力内容に誤りがあります",
    429: "リクエストが多すぎます",
    500: "システムエラーが発生しました",
    502: "連携先のサービスが応答しません",
    503: "サービスが利用できません",
}


class Problem(Exception):
    """An error that becomes a problem+json response."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        title: str | None = None,
        detail: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.title = title or TITLES.get(status, "エラー")
        self.detail = detail
        self.extra = extra or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The JSON body of this problem."""
        body: dict[str, Any] = {
            "type": f"https://mimamori.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    """Render a problem."""
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of this app a problem+json response; validation errors name the field only."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(Problem(status=exc.status_code, code=code), request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Only locations and messages: the offending input may be personal data.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        problem = Problem(status=422, code="validation_error", extra={"errors": errors})
        return problem_response(problem, request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
