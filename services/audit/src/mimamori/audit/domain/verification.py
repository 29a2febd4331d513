"""The verifier: recompute the chain from the first row, name the first row that does not fit, and check every
signed checkpoint against the row at its seq."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from mimamori.audit.domain.checkpoint import ISSUER, StoredCheckpoint
from mimamori.audit.domain.ledger import (
    GENESIS_HASH,
    EntryIndex,
    LedgerEntry,
    canonical_json,
    chain_hash,
    index_of,
)

# Row faults, in the order they are checked.
SEQ_GAP = "seq_gap"
PREV_HASH_MISMATCH = "prev_hash_mismatch"
HASH_MISMATCH = "hash_mismatch"
BODY_NOT_CANONICAL = "body_not_canonical"
INDEX_MISMATCH = "index_mismatch"

# Checkpoint faults.
BAD_SIGNATURE = "bad_signature"
PAYLOAD_MISMATCH = "payload_mismatch"
CHECKPOINT_HASH_MISMATCH = "hash_mismatch"
ROWS_MISSING = "rows_missing"

# Opens a checkpoint token: the signed claims when the signature holds under a trusted key, else None.
TokenOpener = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class RowFault:
    """The first row that does not fit the chain."""

    seq: int
    event_id: str
    reason: str
    expected: str
    found: str


@dataclass(frozen=True, slots=True)
class CheckpointFault:
    """A checkpoint whose signature fails or whose hash is not the ledger's at its seq."""

    checkpoint_id: int
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What the verifier found."""

    rows_checked: int
    head_seq: int
    head_hash: str
    first_fault: RowFault | None
    checkpoints_checked: int
    checkpoint_faults: tuple[CheckpointFault, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every row fits and every checkpoint holds."""
        return self.first_fault is None and not self.checkpoint_faults


class ChainVerifier:
    """Fed the rows in seq order (a page at a time, so the ledger never has to fit in memory)."""

    def __init__(self, checkpoints: Sequence[StoredCheckpoint] = (), *, open_token: TokenOpener | None = None) -> None:
        self._expected_seq = 1
        self._prev_hash = GENESIS_HASH
        self._rows = 0
        self._first_fault: RowFault | None = None
        self._checkpoint_faults: list[CheckpointFault] = []
        self._pending: dict[int, list[tuple[StoredCheckpoint, str]]] = defaultdict(list)
        self._checkpoints = len(checkpoints)
        for checkpoint in checkpoints:
            signed_hash = self._open(checkpoint, open_token)
            if signed_hash is None:
                continue
            if checkpoint.seq == 0:
                if signed_hash != GENESIS_HASH:
                    self._fault(checkpoint, CHECKPOINT_HASH_MISMATCH)
                continue
            self._pending[checkpoint.seq].append((checkpoint, signed_hash))

    def _open(self, checkpoint: StoredCheckpoint, open_token: TokenOpener | None) -> str | None:
        """The hash the checkpoint vouches for, once its signature and columns are checked."""
        if open_token is None:
            unsigned: str = checkpoint.hash
            return unsigned
        claims = open_token(checkpoint.token)
        if claims is None or claims.get("iss") != ISSUER:
            self._fault(checkpoint, BAD_SIGNATURE)
            return None
        if claims.get("seq") != checkpoint.seq or claims.get("hash") != checkpoint.hash:
            self._fault(checkpoint, PAYLOAD_MISMATCH)
            return None
        return str(claims["hash"])

    def _fault(self, checkpoint: StoredCheckpoint, reason: str) -> None:
        self._checkpoint_faults.append(CheckpointFault(checkpoint_id=checkpoint.id, seq=checkpoint.seq, reason=reason))

    def feed(self, entries: Iterable[LedgerEntry]) -> None:
        """Check the next rows of the ledger."""
        for entry in entries:
            self._rows += 1
            if self._first_fault is None:
                self._first_fault = self._check(entry)
            for checkpoint, signed_hash in self._pending.pop(entry.seq, ()):
                if entry.hash != signed_hash:
                    self._fault(checkpoint, CHECKPOINT_HASH_MISMATCH)
            self._expected_seq = entry.seq + 1
            self._prev_hash = entry.hash

    def _check(self, entry: LedgerEntry) -> RowFault | None:
        def fault(reason: str, expected: str, found: str) -> RowFault:
            return RowFault(seq=entry.seq, event_id=entry.event_id, reason=reason, expected=expected, found=found)

        if entry.seq != self._expected_seq:
            return fault(SEQ_GAP, str(self._expected_seq), str(entry.seq))
        if entry.prev_hash != self._prev_hash:
            return fault(PREV_HASH_MISMATCH, self._prev_hash, entry.prev_hash)
        recomputed = chain_hash(entry.prev_hash, entry.body)
        if recomputed != entry.hash:
            return fault(HASH_MISMATCH, recomputed, entry.hash)
        try:
            record = json.loads(entry.body)
            canonical = canonical_json(record)
        except (ValueError, TypeError):
            return fault(BODY_NOT_CANONICAL, "canonical JSON", "unreadable body")
        if canonical != entry.body or not isinstance(record, dict):
            return fault(BODY_NOT_CANONICAL, "canonical JSON object", "other text")
        derived = index_of(record)
        if derived != entry.index or str(record.get("event_id", "")) != entry.event_id:
            return fault(INDEX_MISMATCH, "columns derived from the body", _differing(derived, entry))
        return None

    def finish(self) -> VerificationReport:
        """The report, once every row was fed."""
        for waiting in self._pending.values():
            for checkpoint, _ in waiting:
                self._fault(checkpoint, ROWS_MISSING)
        self._pending.clear()
        return VerificationReport(
            rows_checked=self._rows,
            head_seq=self._expected_seq - 1,
            head_hash=self._prev_hash,
            first_fault=self._first_fault,
            checkpoints_checked=self._checkpoints,
            checkpoint_faults=tuple(sorted(self._checkpoint_faults, key=lambda f: (f.seq, f.checkpoint_id))),
        )


def _differing(derived: EntryIndex, entry: LedgerEntry) -> str:
    """Names of the columns that differ (names only: values may be personal data)."""
    names = [f.name for f in fields(derived) if getattr(derived, f.name) != getattr(entry.index, f.name)]
    if str(entry.fields().get("event_id", "")) != entry.event_id:
        names.append("event_id")
    return ",".join(names)


def verify(
    entries: Iterable[LedgerEntry],
    checkpoints: Sequence[StoredCheckpoint] = (),
    *,
    open_token: TokenOpener | None = None,
) -> VerificationReport:
    """Verify a whole ledger given as rows in seq order."""
    verifier = ChainVerifier(checkpoints, open_token=open_token)
    verifier.feed(entries)
    return verifier.finish()
