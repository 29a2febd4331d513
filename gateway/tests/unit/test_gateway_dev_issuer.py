"""The development issuer: demo users, password grant, token claims, published keys."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from mimamori.gateway.adapters.dev_issuer import DEMO_PASSWORD, DevIssuer, LoginRejected
from mimamori.gateway.domain.policy import Policy


def test_one_demo_user_per_role_with_a_stable_subject(policy: Policy, dev_issuer: DevIssuer) -> None:
    assert sorted(dev_issuer.users) == sorted(f"{r.code}1" for r in policy.roles)
    again = DevIssuer(base_url="http://elsewhere:9000", roles={"caseworker": "ケースワーカー"})
    assert again.users["caseworker1"].subject == dev_issuer.users["caseworker1"].subject
    assert dev_issuer.users["caseworker1"].subject != dev_issuer.users["auditor1"].subject


def test_password_grant_returns_a_fifteen_minute_token_for_the_user(dev_issuer: DevIssuer) -> None:
    before = int(time.time())
    response = dev_issuer.password_grant(
        {"grant_type": "password", "username": "midwife1", "password": DEMO_PASSWORD, "client_id": "cli"}
    )
    assert (response["token_type"], response["expires_in"]) == ("Bearer", 900)
    token = jwt.decode(response["access_token"], KeySet.import_key_set(dev_issuer.jwks()))  # type: ignore[arg-type]
    claims = token.claims
    assert token.header["alg"] == "RS256" and token.header["kid"] == dev_issuer.signing_key.kid
    assert claims["iss"] == "http://localhost:8000/dev-oidc"
    assert claims["aud"] == "mimamori"
    assert claims["sub"] == dev_issuer.users["midwife1"].subject
    assert claims["roles"] == ["midwife"]
    assert claims["org_unit"] == "kenko-zukuri"
    assert claims["preferred_username"] == "midwife1"
    assert before + 900 <= claims["exp"] <= int(time.time()) + 900


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "caseworker1", "password": "wrong"}, "invalid_grant"),
        ({"grant_type": "password", "username": "mayor1", "password": DEMO_PASSWORD}, "invalid_grant"),
        (
            {"grant_type": "client_credentials", "username": "caseworker1", "password": DEMO_PASSWORD},
            "unsupported_grant_type",
        ),
    ],
)
def test_password_grant_refuses_wrong_credentials(dev_issuer: DevIssuer, form: dict[str, str], error: str) -> None:
    with pytest.raises(LoginRejected) as raised:
        dev_issuer.password_grant(form)
    assert raised.value.error == error


def test_discovery_names_the_issuer_and_its_keys(dev_issuer: DevIssuer) -> None:
    document = dev_issuer.discovery()
    assert document["issuer"] == dev_issuer.issuer
    assert document["jwks_uri"] == f"{dev_issuer.issuer}/jwks"
    assert document["token_endpoint"] == f"{dev_issuer.issuer}/token"
    keys = dev_issuer.jwks()["keys"]
    assert all("d" not in key and key["kid"] for key in keys)  # public parts only


def test_rotation_keeps_the_previous_key_published_unless_told_otherwise(policy: Policy) -> None:
    issuer = DevIssuer(base_url="http://localhost:8000", roles={"caseworker": "ケースワーカー"})
    first = issuer.signing_key.kid
    second = issuer.rotate_key()
    assert [k["kid"] for k in issuer.jwks()["keys"]] == [first, second]
    third = issuer.rotate_key(keep_previous=False)
    assert [k["kid"] for k in issuer.jwks()["keys"]] == [third]


def test_replicas_given_one_key_accept_each_others_tokens() -> None:
    pem = RSAKey.generate_key(2048, private=True).as_pem(private=True)
    roles = {"caseworker": "ケースワーカー"}
    one, other = (DevIssuer(base_url="http://localhost:8000", roles=roles, key_pem=pem) for _ in range(2))
    assert one.jwks() == other.jwks()
    issued = one.password_grant({"grant_type": "password", "username": "caseworker1", "password": DEMO_PASSWORD})
    token = jwt.decode(issued["access_token"], KeySet.import_key_set(other.jwks()))  # type: ignore[arg-type]
    assert token.claims["sub"] == other.users["caseworker1"].subject
    # Without a key each start makes its own: a token of one is not signed by a key the other publishes.
    alone = DevIssuer(base_url="http://localhost:8000", roles=roles)
    assert {k["kid"] for k in alone.jwks()["keys"]} & {k["kid"] for k in one.jwks()["keys"]} == set()
