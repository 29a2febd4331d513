"""Checkpoints: the chain head (seq, hash, time), signed, so that it can be kept outside the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mimamori.audit.domain.ledger import canonical_json, utc_text

ISSUER = "mimamori-audit"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of the chain at one moment, as it is signed."""

    seq: int
    hash: str
    signed_at: datetime
    municipality: str

    def claims(self) -> dict[str, Any]:
        """What the signature covers."""
        return {
            "iss": ISSUER,
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": utc_text(self.signed_at),
            "municipality": self.municipality,
        }

    def payload(self) -> bytes:
        """The signed bytes: the claims as canonical JSON."""
        text: str = canonical_json(self.claims())
        return text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint as the checkpoints table holds it: its columns and the signed token."""

    id: int
    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    token: str
