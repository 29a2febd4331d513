"""The development OIDC issuer of the embedded form: one demo user per role, password `demo`.

DEVELOPMENT ONLY. It hands a token to anyone who knows a role name. The gateway never mounts it when
MIMAMORI_ENVIRONMENT=production; otherwise in the embedded form, or when no issuer is configured.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

DEMO_PASSWORD = "demo"
ALGORITHM = "RS256"
LIFETIME_SECONDS = 15 * 60
PATH = "/dev-oidc"
_SUBJECTS = uuid.UUID("6b1f5a4e-2f0c-4c2e-9a55-6d696d616d6f")  # namespace of the demo users' stable ids

# Where each demo user works (組織): the units of the town's plan (図表10), as ASCII codes.
ORG_UNITS: dict[str, str] = {
    "caseworker": "kodomo-ikusei",  # 子育て健康課 子ども育成班 (子ども家庭総合支援拠点)
    "public_health_nurse": "kenko-zukuri",  # 健康づくり班 (母子保健)
    "midwife": "kenko-zukuri",
    "childcare_worker": "kodomo-ikusei",
    "school_social_worker": "gakko-kyoiku",  # 教育委員会 学校教育課
    "education_supervisor": "gakko-kyoiku",
    "team_leader": "kodomo-ikusei",
    "analyst": "kodomo-ikusei",
    "contractor_analyst": "contractor",
    "data_officer": "fukushi",  # 福祉介護課 福祉班
    "sysadmin": "joho-system",
    "auditor": "somu-kojin-joho",  # 個人情報保護 担当
}


class LoginRejected(Exception):
    """The password grant failed; `error` is the OAuth 2.0 error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo account: one role each."""

    username: str
    subject: str
    role: str
    role_name: str
    org_unit: str


class DevIssuer:
    """Issues RS256 access tokens for the demo users and publishes its keys (JWKS) and discovery document."""

    def __init__(
        self,
        *,
        base_url: str,
        roles: Mapping[str, str],
        audience: str = "mimamori",
        lifetime: int = LIFETIME_SECONDS,
        key_pem: bytes | None = None,
    ) -> None:
        self.issuer = base_url.rstrip("/") + PATH
        self.audience = audience
        self.lifetime = lifetime
        self.users: dict[str, DemoUser] = {}
        for role, role_name in roles.items():
            username = f"{role}1"
            self.users[username] = DemoUser(
                username=username,
                subject=str(uuid.uuid5(_SUBJECTS, username)),
                role=role,
                role_name=role_name,
                org_unit=ORG_UNITS.get(role, "kodomo-ikusei"),
            )
        self._keys: list[RSAKey] = []
        if key_pem is None:
            self.rotate_key()
        else:
            # A key given (replicas of the gateway share one): its id is its thumbprint, the same in every replica.
            key = RSAKey.import_key(key_pem, parameters={"use": "sig", "alg": ALGORITHM})
            key.ensure_kid()
            self._keys = [key]

    @property
    def signing_key(self) -> RSAKey:
        """The key that signs new tokens."""
        return self._keys[-1]

    def rotate_key(self, *, keep_previous: bool = True) -> str:
        """Sign with a new key from now on; the previous key stays published (tokens in flight stay valid)."""
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM})
        key.ensure_kid()
        self._keys = [*self._keys[-1:], key] if keep_previous else [key]
        return str(key.kid)

    def jwks(self) -> dict[str, Any]:
        """The public keys (JWKS)."""
        return {"keys": [dict(k.as_dict(private=False)) for k in self._keys]}

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider configuration document."""
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "token_endpoint": f"{self.issuer}/token",
            "grant_types_supported": ["password"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["none"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "roles",
                "org_unit",
                "preferred_username",
            ],
        }

    def claims(self, username: str, *, now: int | None = None) -> dict[str, Any]:
        """The access token claims of a demo user."""
        user = self.users[username]
        issued = int(time.time()) if now is None else now
        return {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user.subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.lifetime,
            "jti": str(uuid.uuid4()),
            "roles": [user.role],
            "org_unit": user.org_unit,
            "preferred_username": user.username,
        }

    def sign(self, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None) -> str:
        """A token with exactly these claims, signed by the current key (tests use it for odd tokens)."""
        key = self.signing_key
        protected = {"alg": ALGORITHM, "kid": key.kid, **(header or {})}
        return jwt.encode(protected, dict(claims), key, algorithms=[ALGORITHM])

    def mint(self, username: str, **overrides: Any) -> str:
        """An access token for a demo user; overrides replace claims (None removes one)."""
        claims = self.claims(username)
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.sign(claims)

    def password_grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response of the resource owner password grant (RFC 6749 §4.3)."""
        if form.get("grant_type") != "password":
            raise LoginRejected("unsupported_grant_type", "only grant_type=password is supported")
        user = self.users.get(form.get("username", ""))
        if user is None or form.get("password") != DEMO_PASSWORD:
            raise LoginRejected("invalid_grant", "unknown demo user or wrong password")
        return {
            "access_token": self.mint(user.username),
            "token_type": "Bearer",
            "expires_in": self.lifetime,
        }
