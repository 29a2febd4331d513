"""`/dev-oidc`: the development issuer's discovery, keys, password-grant token endpoint and demo user list.
DEVELOPMENT ONLY; bootstrap never mounts it in production."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mimamori.gateway.adapters.dev_issuer import DEMO_PASSWORD, PATH, DevIssuer, LoginRejected

router = APIRouter(prefix=PATH, tags=["開発用 OIDC (本番では無効)"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _issuer(request: Request) -> DevIssuer:
    issuer: DevIssuer = request.app.state.dev_issuer
    return issuer


@router.get("/.well-known/openid-configuration", summary="OpenID Provider 設定")
async def discovery(request: Request) -> dict[str, Any]:
    """The discovery document."""
    return _issuer(request).discovery()


@router.get("/jwks", summary="署名検証用の公開鍵 (JWKS)")
async def jwks(request: Request) -> dict[str, Any]:
    """The issuer's public keys."""
    return _issuer(request).jwks()


@router.post("/token", summary="デモユーザーのアクセストークン (password grant)")
async def token(request: Request) -> JSONResponse:
    """Form fields grant_type=password, username, password (client_id optional, ignored)."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True))
    try:
        body = _issuer(request).password_grant(form)
    except LoginRejected as exc:
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description}, status_code=400, headers=NO_STORE
        )
    return JSONResponse(body, headers=NO_STORE)


@router.get("/users", summary="デモユーザーの一覧")
async def users(request: Request) -> dict[str, Any]:
    """Every demo user, one per role; the password of all is `demo`."""
    issuer = _issuer(request)
    return {
        "warning": "development only: never enabled when MIMAMORI_ENVIRONMENT=production",
        "password": DEMO_PASSWORD,
        "token_endpoint": f"{issuer.issuer}/token",
        "users": [
            {
                "username": u.username,
                "role": u.role,
                "role_name": u.role_name,
                "org_unit": u.org_unit,
                "subject": u.subject,
            }
            for u in issuer.users.values()
        ],
    }
