"""Keyed pseudonyms for the purpose 判定基準の設計・評価: stable per purpose and municipality, not reversible."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(person_id: str, *, purpose: str, municipality: str, key: bytes) -> str:
    """The HMAC-SHA256 pseudonym of a person for one purpose in one municipality (no key, no way back)."""
    if not key:
        raise ValueError("a pseudonym needs a secret key")
    message = "\x1f".join((municipality, purpose, person_id)).encode("utf-8")
    return "ps_" + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
