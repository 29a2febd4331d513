"""The signed access context: what the gateway signs every service can verify; nothing else passes."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.errors import JoseError

from mimamori.kit import auth
from mimamori.kit.auth import (
    ALGORITHM,
    AccessContext,
    ContextSigner,
    ContextVerifier,
    generate_signing_key,
    load_key,
)
from mimamori.kit.problems import Problem

CONTEXT = AccessContext(
    subject="staff-001",
    roles=["caseworker"],
    org_unit="子ども育成班",
    purpose="case_support",
    decision_id="d-1",
    municipality="143669",
)


def refused(verifier: ContextVerifier, token: str) -> Problem:
    with pytest.raises(Problem) as caught:
        verifier.verify(token)
    return caught.value


def test_a_signed_context_verifies_to_the_same_context() -> None:
    key = generate_signing_key()
    token = ContextSigner(key).sign(CONTEXT)
    assert ContextVerifier(key).verify(token) == CONTEXT


def test_a_service_holding_only_the_public_key_verifies_but_cannot_sign() -> None:
    private = generate_signing_key()
    pem = private.as_pem(private=False).decode()
    public = load_key(pem)
    assert ContextVerifier(public).verify(ContextSigner(private).sign(CONTEXT)) == CONTEXT
    with pytest.raises(JoseError):
        ContextSigner(public).sign(CONTEXT)
    assert not public.is_private


def test_an_expired_context_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_signing_key()
    signed_at = time.time() - auth.LIFETIME_SECONDS - 5
    with monkeypatch.context() as m:
        m.setattr(auth.time, "time", lambda: signed_at)
        token = ContextSigner(key).sign(CONTEXT)
    problem = refused(ContextVerifier(key), token)
    assert (problem.status, problem.code) == (401, "invalid_internal_context")


def test_a_context_signed_with_another_key_is_refused() -> None:
    token = ContextSigner(generate_signing_key()).sign(CONTEXT)
    assert refused(ContextVerifier(generate_signing_key()), token).status == 401


def test_a_tampered_context_is_refused() -> None:
    key = generate_signing_key()
    header, payload, signature = ContextSigner(key).sign(CONTEXT).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["team_leader"]
    claims["purpose"] = "audit_disclosure"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(ContextVerifier(key), f"{header}.{forged}.{signature}").status == 401


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_and_unsigned_tokens_are_refused(token: str) -> None:
    assert refused(ContextVerifier(generate_signing_key()), token).code == "invalid_internal_context"


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iss", "someone-else"), ("aud", "another-audience"), ("exp", None)],
)
def test_a_properly_signed_token_with_the_wrong_issuer_audience_or_no_expiry_is_refused(
    claim: str, value: str | None
) -> None:
    key = generate_signing_key()
    now = int(time.time())
    claims = {**CONTEXT.model_dump(), "iss": auth.ISSUER, "aud": auth.AUDIENCE, "iat": now, "exp": now + 60}
    if value is None:
        del claims[claim]
    else:
        claims[claim] = value
    token = jwt.encode({"alg": ALGORITHM}, claims, key, algorithms=[ALGORITHM])
    assert refused(ContextVerifier(key), token).status == 401


def test_a_token_without_the_context_claims_is_refused() -> None:
    key = generate_signing_key()
    now = int(time.time())
    claims = {"iss": auth.ISSUER, "aud": auth.AUDIENCE, "iat": now, "exp": now + 60, "sub": "staff-001"}
    token = jwt.encode({"alg": ALGORITHM}, claims, key, algorithms=[ALGORITHM])
    assert refused(ContextVerifier(key), token).status == 401


def test_the_lean_signer_and_verifier_keep_the_jose_format_both_ways() -> None:
    key = generate_signing_key()
    public = load_key(key.as_pem(private=False).decode())
    ours = ContextSigner(key).sign(CONTEXT)
    decoded = jwt.decode(ours, public, algorithms=[ALGORITHM])
    assert decoded.header == {"typ": "JWT", "alg": ALGORITHM}
    assert decoded.claims["iss"] == auth.ISSUER and decoded.claims["aud"] == auth.AUDIENCE
    claims = {**CONTEXT.model_dump(), "iss": auth.ISSUER, "aud": auth.AUDIENCE, "exp": int(time.time()) + 60}
    theirs = jwt.encode({"alg": ALGORITHM}, claims, key, algorithms=[ALGORITHM])
    assert ContextVerifier(public).verify(theirs) == CONTEXT


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_a_context_whose_header_names_another_algorithm_is_refused(alg: str) -> None:
    key = generate_signing_key()
    _, payload, signature = ContextSigner(key).sign(CONTEXT).split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=").decode()
    assert refused(ContextVerifier(key), f"{header}.{payload}.{signature}").code == "invalid_internal_context"
    assert refused(ContextVerifier(key), f"{header}.{payload}.").code == "invalid_internal_context"
