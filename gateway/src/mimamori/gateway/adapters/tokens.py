"""The OIDC resource server side: find the issuer's keys (JWKS), verify access tokens, read roles and unit."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import JWKRegistry, Key

from mimamori.gateway.adapters.dev_issuer import DevIssuer

log = logging.getLogger("mimamori.gateway.tokens")

DISCOVERY_PATH = "/.well-known/openid-configuration"
VERIFIED_CACHE_SIZE = 10_000


class InvalidToken(Exception):
    """The bearer token cannot be trusted; `why` is a short machine code (never the token)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for."""

    subject: str
    roles: frozenset[str]
    org_unit: str


class JwksSource(Protocol):
    """Where the issuer's public keys come from."""

    async def fetch(self) -> dict[str, Any]:
        """The current JWKS document; raises KeysUnavailable."""

    async def close(self) -> None:
        """Release connections."""


class InProcessJwksSource:
    """The development issuer's keys, read in-process (the gateway cannot call itself before it serves)."""

    def __init__(self, issuer: DevIssuer) -> None:
        self._issuer = issuer

    async def fetch(self) -> dict[str, Any]:
        """The issuer's JWKS."""
        return self._issuer.jwks()

    async def close(self) -> None:
        """Nothing to release."""


class HttpJwksSource:
    """OIDC discovery, then the JWKS at its `jwks_uri`, over one pooled aiohttp session."""

    def __init__(self, *, issuer: str, timeout: float = 5.0) -> None:
        self._issuer = issuer.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._jwks_uri: str | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=4, keepalive_timeout=60)
            )
        return self._session

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._client().get(url, headers={"Accept": "application/json"}) as response:
                if response.status != 200:
                    raise KeysUnavailable(f"HTTP {response.status} from {url}")
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise KeysUnavailable(f"{type(exc).__name__} from {url}") from exc
        if not isinstance(document, dict):
            raise KeysUnavailable(f"{url} did not return a JSON object")
        return document

    async def fetch(self) -> dict[str, Any]:
        """Discover the jwks_uri once (the issuer must name itself exactly), then fetch the keys."""
        if self._jwks_uri is None:
            discovery = await self._get_json(self._issuer + DISCOVERY_PATH)
            if discovery.get("issuer", "").rstrip("/") != self._issuer:
                raise KeysUnavailable("discovery document names another issuer")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise KeysUnavailable("discovery document has no jwks_uri")
            self._jwks_uri = jwks_uri
        return await self._get_json(self._jwks_uri)

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _b64json(segment: str) -> dict[str, Any]:
    data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class TokenValidator:
    """Verifies access tokens: algorithm allow-list, signature by the issuer's key (refreshed on an unknown
    kid,
    at most once per `refresh_min_seconds`), issuer, audience, exp and nbf with a small leeway."""

    def __init__(
        self,
        *,
        source: JwksSource,
        issuer: str,
        audience: str,
        algorithms: Collection[str],
        leeway: int,
        roles_claim: str = "roles",
        org_unit_claim: str = "org_unit",
        known_roles: Collection[str] | None = None,
        refresh_min_seconds: float = 30.0,
        cache_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._algorithms = tuple(algorithms)
        self._allowed = frozenset(self._algorithms)
        self._roles_claim = roles_claim
        self._org_unit_claim = org_unit_claim
        self._known_roles = frozenset(known_roles) if known_roles is not None else None
        self._refresh_min = refresh_min_seconds
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._now = now
        self._leeway = leeway
        self._claims = jwt.JWTClaimsRegistry(
            now=lambda: int(now()),
            leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        self._keys: dict[str, Key] = {}
        self._loaded_at: float | None = None
        self._last_forced: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        # Tokens already verified, until they expire: a token is reused for many requests, and the exact same
        # string cannot carry other claims. Saves a signature check per request.
        self._verified: dict[str, tuple[Principal, float, Key]] = {}

    async def close(self) -> None:
        """Release the key source."""
        await self._source.close()

    async def _load(self) -> None:
        document = await self._source.fetch()
        self.fetches += 1
        keys: dict[str, Key] = {}
        for data in document.get("keys", []):
            if not isinstance(data, dict) or data.get("use", "sig") != "sig":
                continue
            try:
                key = JWKRegistry.import_key(data)
            except (JoseError, ValueError, TypeError):
                log.warning("ignored a key of the issuer's JWKS", extra={"kty": str(data.get("kty", ""))})
                continue
            keys[str(data.get("kid") or key.thumbprint())] = key
        self._keys = keys
        self._loaded_at = self._clock()

    async def _key(self, kid: str | None) -> Key:
        now = self._clock()
        stale = self._loaded_at is None or now - self._loaded_at > self._cache_seconds
        if stale or (kid is not None and kid not in self._keys):
            async with self._lock:
                now = self._clock()
                if self._loaded_at is None or now - self._loaded_at > self._cache_seconds:
                    await self._load()
                elif (
                    kid is not None
                    and kid not in self._keys
                    and (self._last_forced is None or now - self._last_forced >= self._refresh_min)
                ):
                    # An unknown kid may mean the issuer rotated its keys; a forged kid must not make us
                    # hammer the issuer, so such refreshes are rate-limited.
                    self._last_forced = now
                    await self._load()
        if kid is None:
            if len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise InvalidToken("kid_required")
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown_key")
        return key

    async def validate(self, token: str) -> Principal:
        """The principal of a valid token; raises InvalidToken (KeysUnavailable when the issuer is down)."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires, signer = known
            # Only while it is unexpired and its key is still one the issuer publishes.
            if self._now() < expires + self._leeway and any(k is signer for k in self._keys.values()):
                return principal
            del self._verified[token]
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("malformed")
        try:
            header = _b64json(parts[0])
        except (ValueError, TypeError):
            raise InvalidToken("malformed") from None
        alg = header.get("alg")
        if alg not in self._allowed:
            raise InvalidToken("algorithm_not_allowed")
        kid = header.get("kid")
        key = await self._key(kid if isinstance(kid, str) else None)
        try:
            claims = jwt.decode(token, key, algorithms=self._algorithms).claims
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("expired") from None
        except MissingClaimError:
            raise InvalidToken("missing_claim") from None
        except InvalidClaimError as exc:
            raise InvalidToken(
                {"iss": "wrong_issuer", "aud": "wrong_audience", "nbf": "not_yet_valid"}.get(
                    str(exc.claim), "invalid_claim"
                )
            ) from None
        except BadSignatureError:
            raise InvalidToken("bad_signature") from None
        except (JoseError, ValueError, TypeError):
            raise InvalidToken("malformed") from None
        roles = _claim(claims, self._roles_claim)
        if roles is None:
            roles = _claim(claims, "realm_access.roles")  # Keycloak's realm roles
        if isinstance(roles, str):
            roles = roles.split()
        held = frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset()
        if self._known_roles is not None:
            held &= self._known_roles  # Keycloak adds roles of its own (offline_access, ...)
        org_unit = _claim(claims, self._org_unit_claim)
        principal = Principal(
            subject=str(claims["sub"]), roles=held, org_unit=org_unit if isinstance(org_unit, str) else ""
        )
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, float(claims["exp"]), key)
        return principal
