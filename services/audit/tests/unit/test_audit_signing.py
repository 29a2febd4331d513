"""Checkpoint signatures (Ed25519, compact JWS) and which key the service agrees to sign with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mimamori.audit.adapters.signing import CheckpointKey
from mimamori.audit.bootstrap import checkpoint_key
from mimamori.audit.config import AuditSettings
from mimamori.audit.domain.checkpoint import Checkpoint
from mimamori.kit.auth import ContextSigner, ContextVerifier, generate_signing_key
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.module import Platform

CHECKPOINT = Checkpoint(
    seq=7, hash="c" * 64, signed_at=datetime(2026, 4, 1, tzinfo=UTC), municipality="143669"
)


def platform(environment: str) -> Platform:
    key = generate_signing_key()
    settings = PlatformSettings(
        environment=environment,  # type: ignore[arg-type]
        database_url="postgresql+asyncpg://db/x",
        kafka_bootstrap="kafka:9092",
        context_public_key="pem",
    )
    return Platform(
        settings=settings,
        bus=InProcessBus(),
        context_verifier=ContextVerifier(key),
        context_signer=ContextSigner(key),
        embedded=False,
        targets=("audit",),
    )


def test_a_signed_checkpoint_opens_with_the_public_key_alone() -> None:
    key = CheckpointKey.generate()
    token = key.sign(CHECKPOINT.payload())
    public = CheckpointKey.from_pem(key.public_pem())
    assert not public.can_sign
    assert public.key_id == key.key_id
    assert public.open(token) == CHECKPOINT.claims()


def test_a_changed_payload_or_another_key_does_not_open() -> None:
    key = CheckpointKey.generate()
    header, _, signature = key.sign(CHECKPOINT.payload()).split(".")
    other = CheckpointKey.generate().sign(CHECKPOINT.payload())
    forged_payload = key.sign(b'{"seq":8}').split(".")[1]
    assert key.open(f"{header}.{forged_payload}.{signature}") is None
    assert key.open(other) is None
    assert key.open("not a token") is None


def test_production_refuses_to_start_without_a_configured_key() -> None:
    with pytest.raises(ValueError, match="MIMAMORI_AUDIT_CHECKPOINT_KEY"):
        checkpoint_key(AuditSettings(checkpoint_key=None), platform("production"))


def test_the_service_refuses_a_public_key_to_sign_with() -> None:
    public_pem = CheckpointKey.generate().public_pem()
    with pytest.raises(ValueError, match="private key"):
        checkpoint_key(AuditSettings(checkpoint_key=public_pem), platform("production"))


def test_a_configured_private_key_is_used() -> None:
    key = CheckpointKey.generate()
    configured = checkpoint_key(
        AuditSettings(checkpoint_key=key.private_pem().decode()), platform("production")
    )
    assert configured.key_id == key.key_id and configured.can_sign
