"""The checkpoint key: Ed25519, compact JWS (joserfc). Given as PEM in settings, or made once per data dir."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "Ed25519"
TOKEN_TYPE = "mimamori-audit-checkpoint+jws"
KEY_FILE = "audit-checkpoint-key.pem"


class CheckpointKey:
    """Signs checkpoints (with the private key) and opens them (the public key is enough)."""

    def __init__(self, key: OKPKey) -> None:
        self._key = key
        self._public = OKPKey.import_key(key.as_pem(private=False))

    @classmethod
    def from_pem(cls, pem: str | bytes) -> CheckpointKey:
        """A key from PEM, private (to sign) or public (to verify only)."""
        return cls(OKPKey.import_key(pem))

    @classmethod
    def generate(cls) -> CheckpointKey:
        """A new Ed25519 key."""
        return cls(OKPKey.generate_key("Ed25519"))

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> CheckpointKey:
        """The embedded form's key: read from the data dir, or made and stored there (owner-readable only)."""
        path = data_dir / KEY_FILE
        if path.exists():
            return cls.from_pem(path.read_bytes())
        key = cls.generate()
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key.private_pem())
        return key

    @property
    def can_sign(self) -> bool:
        """Whether this key holds the private half."""
        return self._key.is_private

    @property
    def key_id(self) -> str:
        """The RFC 7638 thumbprint of the public key."""
        return str(self._public.thumbprint())

    def private_pem(self) -> bytes:
        """The private key as PKCS#8 PEM."""
        return bytes(self._key.as_pem(private=True))

    def public_pem(self) -> str:
        """The public key as PEM, to publish with the checkpoints."""
        return bytes(self._public.as_pem(private=False)).decode("ascii")

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK."""
        jwk: dict[str, Any] = dict(self._public.as_dict(private=False))
        jwk["kid"] = self.key_id
        return jwk

    def sign(self, payload: bytes) -> str:
        """A compact JWS of the payload."""
        header = {"alg": ALGORITHM, "kid": self.key_id, "typ": TOKEN_TYPE}
        return str(jws.serialize_compact(header, payload, self._key, algorithms=[ALGORITHM]))

    def open(self, token: str) -> Mapping[str, Any] | None:
        """The claims of a token signed by this key, or None when the signature (or the token) is not good."""
        try:
            signed = jws.deserialize_compact(token, self._public, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        if signed.headers().get("kid") not in (None, self.key_id):
            return None
        try:
            claims = json.loads(signed.payload)
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None
