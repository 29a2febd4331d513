"""The ledger's chain: each row holds an access as canonical JSON and a hash that links it to the row before.

hash(row) = SHA-256(bytes of the previous row's hash || UTF-8 bytes of the row's canonical body), in hex; the
first row's previous hash is 64 zeros. Changing, removing or reordering any row breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
OUTCOME_PREFIX = "OUTCOME_"


def canonical_json(fields: Mapping[str, Any]) -> str:
    """The one text of a set of fields: keys sorted, UTF-8 as is (no \\u escapes), no whitespace."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def chain_hash(prev_hash: str, body: str) -> str:
    """SHA-256 over the previous hash (its 32 bytes, not its hex text) followed by the body's UTF-8 bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body.encode("utf-8")).hexdigest()


def utc_text(moment: datetime) -> str:
    """A moment as fixed-width UTC text, so that text order is time order on every database."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_moment(text: str) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (naive means UTC), or None when it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EntryIndex:
    """What the ledger keeps in columns beside the body, to be queried; always derived from the body."""

    occurred_at: str
    recorder: str
    actor: str
    purpose: str
    outcome: str
    break_glass: bool
    person_ids: tuple[str, ...]


def outcome_code(value: Any) -> str:
    """`OUTCOME_DENIED` → `denied` (an unknown enum number stays a number)."""
    text = str(value if value is not None else "")
    return text[len(OUTCOME_PREFIX) :].lower() if text.startswith(OUTCOME_PREFIX) else text.lower()


def index_of(fields: Mapping[str, Any]) -> EntryIndex:
    """The query columns of an access record."""
    moment = parse_moment(str(fields.get("occurred_at", "")))
    return EntryIndex(
        occurred_at=utc_text(moment) if moment is not None else "",
        recorder=str(fields.get("recorder", "")),
        actor=str(fields.get("actor", "")),
        purpose=str(fields.get("purpose", "")),
        outcome=outcome_code(fields.get("outcome")),
        break_glass=bool(fields.get("break_glass", False)),
        person_ids=tuple(sorted({str(p) for p in fields.get("person_ids", ()) or ()})),
    )


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last row of the chain (seq 0 and the zero hash when the ledger is empty)."""

    seq: int
    hash: str


EMPTY_HEAD = ChainHead(seq=0, hash=GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of the ledger."""

    seq: int
    event_id: str
    recorded_at: datetime
    body: str
    prev_hash: str
    hash: str
    index: EntryIndex

    def fields(self) -> dict[str, Any]:
        """The access record this row holds."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def extend(head: ChainHead, records: Sequence[Mapping[str, Any]], *, recorded_at: datetime) -> list[LedgerEntry]:
    """The rows that append these access records, in order, after the head."""
    entries: list[LedgerEntry] = []
    seq, prev = head.seq, head.hash
    for fields in records:
        body = canonical_json(fields)
        seq += 1
        digest = chain_hash(prev, body)
        entries.append(
            LedgerEntry(
                seq=seq,
                event_id=str(fields["event_id"]),
                recorded_at=recorded_at,
                body=body,
                prev_hash=prev,
                hash=digest,
                index=index_of(fields),
            )
        )
        prev = digest
    return entries


@dataclass(frozen=True, slots=True)
class EntryQuery:
    """Filters of the ledger's queries (all optional; times are half-open: since ≤ t < until)."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    purpose: str | None = None
    outcome: str | None = None
    recorder: str | None = None
