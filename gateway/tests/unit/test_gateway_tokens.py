"""Access token validation against the development issuer's keys (in-process JWKS; no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from mimamori.gateway.adapters.dev_issuer import DevIssuer
from mimamori.gateway.adapters.tokens import (
    InProcessJwksSource,
    InvalidToken,
    KeysUnavailable,
    TokenValidator,
)
from mimamori.gateway.config import PERMITTED_ALGORITHMS
from mimamori.gateway.domain.policy import Policy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingSource:
    """A JWKS source that counts fetches (and can serve any document)."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.fetches = 0

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return self.document() if callable(self.document) else self.document

    async def close(self) -> None:
        return None


def validator(issuer: DevIssuer, *, source: Any = None, clock: Clock | None = None, **options: Any) -> TokenValidator:
    return TokenValidator(
        source=source or InProcessJwksSource(issuer),
        issuer=issuer.issuer,
        audience="mimamori",
        algorithms=PERMITTED_ALGORITHMS,
        leeway=30,
        known_roles={"caseworker", "auditor", "team_leader", "midwife"},
        clock=clock or Clock(),
        **options,
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> tuple[str, str, str]:
    return b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)


async def test_valid_token_gives_subject_roles_and_unit(dev_issuer: DevIssuer) -> None:
    principal = await validator(dev_issuer).validate(dev_issuer.mint("caseworker1"))
    assert principal.subject == dev_issuer.users["caseworker1"].subject
    assert principal.roles == frozenset({"caseworker"})
    assert principal.org_unit == "kodomo-ikusei"


async def expect_refusal(token: str, why: str, issuer: DevIssuer) -> None:
    with pytest.raises(InvalidToken) as raised:
        await validator(issuer).validate(token)
    assert raised.value.why == why


async def test_expired_token_is_refused_beyond_the_leeway(dev_issuer: DevIssuer) -> None:
    now = int(time.time())
    await expect_refusal(dev_issuer.mint("caseworker1", exp=now - 60), "expired", dev_issuer)
    assert await validator(dev_issuer).validate(dev_issuer.mint("caseworker1", exp=now - 10))


async def test_token_not_yet_valid_is_refused_beyond_the_leeway(dev_issuer: DevIssuer) -> None:
    now = int(time.time())
    await expect_refusal(dev_issuer.mint("caseworker1", nbf=now + 120), "not_yet_valid", dev_issuer)
    assert await validator(dev_issuer).validate(dev_issuer.mint("caseworker1", nbf=now + 10))


async def test_tampered_claims_break_the_signature(dev_issuer: DevIssuer) -> None:
    header, _, signature = dev_issuer.mint("caseworker1").split(".")
    claims = dev_issuer.claims("caseworker1") | {"roles": ["auditor"]}
    forged = ".".join((header, b64(json.dumps(claims).encode()), signature))
    await expect_refusal(forged, "bad_signature", dev_issuer)


async def test_token_of_another_issuer_is_refused(dev_issuer: DevIssuer) -> None:
    await expect_refusal(
        dev_issuer.mint("caseworker1", iss="https://evil.example/realms/x"), "wrong_issuer", dev_issuer
    )


async def test_token_for_another_audience_is_refused(dev_issuer: DevIssuer) -> None:
    await expect_refusal(dev_issuer.mint("caseworker1", aud="another-app"), "wrong_audience", dev_issuer)
    assert await validator(dev_issuer).validate(dev_issuer.mint("caseworker1", aud=["account", "mimamori"]))


async def test_unsigned_token_with_alg_none_is_refused(dev_issuer: DevIssuer) -> None:
    header = {"alg": "none", "kid": dev_issuer.signing_key.kid}
    await expect_refusal(
        ".".join(unsigned(header, dev_issuer.claims("caseworker1"))), "algorithm_not_allowed", dev_issuer
    )


async def test_hs256_signed_with_the_public_key_as_secret_is_refused(dev_issuer: DevIssuer) -> None:
    public_pem = dev_issuer.signing_key.as_pem(private=False)
    header = {"alg": "HS256", "typ": "JWT", "kid": dev_issuer.signing_key.kid}
    first, second, _ = unsigned(header, dev_issuer.claims("caseworker1"))
    signature = hmac.new(public_pem, f"{first}.{second}".encode(), hashlib.sha256).digest()
    await expect_refusal(f"{first}.{second}.{b64(signature)}", "algorithm_not_allowed", dev_issuer)


async def test_token_without_subject_or_expiry_is_refused(dev_issuer: DevIssuer) -> None:
    await expect_refusal(dev_issuer.mint("caseworker1", sub=None), "missing_claim", dev_issuer)
    await expect_refusal(dev_issuer.mint("caseworker1", exp=None), "missing_claim", dev_issuer)


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d.e", "!!!.e30.sig", "e30.e30.e30"])
async def test_malformed_tokens_are_refused(dev_issuer: DevIssuer, token: str) -> None:
    with pytest.raises(InvalidToken):
        await validator(dev_issuer).validate(token)


async def test_unknown_kid_triggers_one_refresh_then_succeeds_after_rotation(policy: Policy) -> None:
    issuer = DevIssuer(base_url="http://localhost:8000", roles={r.code: r.name for r in policy.roles})
    source = CountingSource(issuer.jwks)
    tokens = validator(issuer, source=source)
    assert await tokens.validate(issuer.mint("caseworker1"))
    assert source.fetches == 1
    issuer.rotate_key(keep_previous=False)
    rotated = issuer.mint("caseworker1")
    assert (await tokens.validate(rotated)).roles == frozenset({"caseworker"})
    assert source.fetches == 2
    assert await tokens.validate(rotated)
    assert source.fetches == 2  # known now: no further fetch


async def test_refreshes_for_unknown_kids_are_rate_limited(policy: Policy) -> None:
    issuer = DevIssuer(base_url="http://localhost:8000", roles={"caseworker": "ケースワーカー"})
    source = CountingSource(issuer.jwks)
    clock = Clock()
    tokens = validator(issuer, source=source, clock=clock, refresh_min_seconds=30)
    await tokens.validate(issuer.mint("caseworker1"))
    forged = [issuer.sign(issuer.claims("caseworker1"), header={"kid": f"forged-{i}"}) for i in range(3)]
    with pytest.raises(InvalidToken, match="unknown_key"):
        await tokens.validate(forged[0])
    assert source.fetches == 2
    for token in forged[1:]:
        with pytest.raises(InvalidToken, match="unknown_key"):
            await tokens.validate(token)
    assert source.fetches == 2
    clock.now += 31
    with pytest.raises(InvalidToken, match="unknown_key"):
        await tokens.validate(forged[0])
    assert source.fetches == 3


async def test_keys_are_fetched_again_when_the_cache_expires(dev_issuer: DevIssuer) -> None:
    source = CountingSource(dev_issuer.jwks)
    clock = Clock()
    tokens = validator(dev_issuer, source=source, clock=clock, cache_seconds=600)
    await tokens.validate(dev_issuer.mint("caseworker1"))
    clock.now += 300
    await tokens.validate(dev_issuer.mint("caseworker1"))
    assert source.fetches == 1
    clock.now += 301
    await tokens.validate(dev_issuer.mint("caseworker1"))
    assert source.fetches == 2


async def test_issuer_without_keys_makes_validation_fail_loudly(dev_issuer: DevIssuer) -> None:
    class Down:
        async def fetch(self) -> dict[str, Any]:
            raise KeysUnavailable("connection refused")

        async def close(self) -> None:
            return None

    with pytest.raises(KeysUnavailable):
        await validator(dev_issuer, source=Down()).validate(dev_issuer.mint("caseworker1"))


async def test_keycloak_realm_roles_are_read_and_foreign_roles_dropped(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint(
        "caseworker1",
        roles=None,
        realm_access={"roles": ["team_leader", "offline_access", "uma_authorization"]},
    )
    assert (await validator(dev_issuer).validate(token)).roles == frozenset({"team_leader"})


async def test_roles_claim_is_configurable(dev_issuer: DevIssuer) -> None:
    token = dev_issuer.mint("caseworker1", roles=None, resource_access={"mimamori": {"roles": ["auditor"]}})
    tokens = validator(dev_issuer, roles_claim="resource_access.mimamori.roles")
    assert (await tokens.validate(token)).roles == frozenset({"auditor"})
    assert (await validator(dev_issuer).validate(token)).roles == frozenset()


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("PS256", lambda: RSAKey.generate_key(2048)),
        ("ES256", lambda: ECKey.generate_key("P-256")),
        ("Ed25519", lambda: OKPKey.generate_key("Ed25519")),
    ],
)
async def test_other_permitted_algorithms_pass(dev_issuer: DevIssuer, alg: str, key: Any) -> None:
    private = key()
    private.ensure_kid()
    source = CountingSource({"keys": [private.as_dict(private=False)]})
    token = jwt.encode({"alg": alg, "kid": private.kid}, dev_issuer.claims("midwife1"), private, algorithms=[alg])
    assert (await validator(dev_issuer, source=source).validate(token)).roles == frozenset({"midwife"})


async def test_permitted_but_mismatched_algorithm_and_key_are_refused(dev_issuer: DevIssuer) -> None:
    ec = ECKey.generate_key("P-256")
    ec.ensure_kid()
    rsa = RSAKey.generate_key(2048, parameters={"kid": ec.kid})
    source = CountingSource({"keys": [ec.as_dict(private=False)]})
    token = jwt.encode({"alg": "RS256", "kid": ec.kid}, dev_issuer.claims("midwife1"), rsa, algorithms=["RS256"])
    with pytest.raises(InvalidToken):
        await validator(dev_issuer, source=source).validate(token)


async def test_a_token_verified_once_still_expires(dev_issuer: DevIssuer) -> None:
    wall = {"now": time.time()}
    tokens = validator(dev_issuer, now=lambda: wall["now"])
    token = dev_issuer.mint("caseworker1", exp=int(wall["now"]) + 100)
    assert await tokens.validate(token)
    assert await tokens.validate(token)  # from the cache
    wall["now"] += 100 + 31
    with pytest.raises(InvalidToken, match="expired"):
        await tokens.validate(token)


async def test_a_cached_token_does_not_vouch_for_a_tampered_copy(dev_issuer: DevIssuer) -> None:
    tokens = validator(dev_issuer)
    token = dev_issuer.mint("caseworker1")
    assert await tokens.validate(token)
    header, _, signature = token.split(".")
    claims = dev_issuer.claims("caseworker1") | {"roles": ["auditor"]}
    with pytest.raises(InvalidToken, match="bad_signature"):
        await tokens.validate(".".join((header, b64(json.dumps(claims).encode()), signature)))
