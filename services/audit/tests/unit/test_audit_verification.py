"""The verifier over a list of rows: it names the first row that does not fit, and checks checkpoints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mimamori.audit.domain.checkpoint import Checkpoint, StoredCheckpoint
from mimamori.audit.domain.ledger import (
    EMPTY_HEAD,
    GENESIS_HASH,
    LedgerEntry,
    canonical_json,
    chain_hash,
    extend,
)
from mimamori.audit.domain.verification import (
    BAD_SIGNATURE,
    BODY_NOT_CANONICAL,
    CHECKPOINT_HASH_MISMATCH,
    HASH_MISMATCH,
    INDEX_MISMATCH,
    PAYLOAD_MISMATCH,
    PREV_HASH_MISMATCH,
    ROWS_MISSING,
    SEQ_GAP,
    ChainVerifier,
    verify,
)

NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


def chain(n: int) -> list[LedgerEntry]:
    records = [
        {
            "event_id": f"e{i}",
            "occurred_at": "2026-04-01T03:00:00+00:00",
            "recorder": "risk",
            "actor": f"staff-{i % 3}",
            "purpose": "early_detection",
            "outcome": "OUTCOME_ALLOWED",
            "person_ids": [f"p{i}"],
            "break_glass": False,
        }
        for i in range(1, n + 1)
    ]
    return extend(EMPTY_HEAD, records, recorded_at=NOW)


def checkpoint_at(entries: list[LedgerEntry], seq: int, *, id: int = 1) -> StoredCheckpoint:
    digest = GENESIS_HASH if seq == 0 else entries[seq - 1].hash
    return StoredCheckpoint(id=id, seq=seq, hash=digest, signed_at=NOW, key_id="k", token=f"{seq}:{digest}")


def opener(token: str) -> dict[str, Any] | None:
    """A stand-in for a signature check: tokens are 'seq:hash'; 'forged' ones fail."""
    if token.startswith("forged"):
        return None
    seq, _, digest = token.partition(":")
    return {"iss": "mimamori-audit", "seq": int(seq), "hash": digest}


def test_a_clean_chain_verifies() -> None:
    entries = chain(10)
    report = verify(entries, [checkpoint_at(entries, 0), checkpoint_at(entries, 5, id=2)], open_token=opener)
    assert report.ok
    assert report.rows_checked == 10
    assert report.head_seq == 10
    assert report.head_hash == entries[-1].hash
    assert report.checkpoints_checked == 2


def test_an_empty_ledger_verifies() -> None:
    report = verify([])
    assert report.ok and report.head_seq == 0 and report.head_hash == GENESIS_HASH


def test_a_changed_body_names_that_row() -> None:
    entries = chain(10)
    tampered = entries[6]
    entries[6] = replace(tampered, body=tampered.body.replace("staff-", "other-"))
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.event_id) == (7, "e7")
    assert report.first_fault.reason == HASH_MISMATCH


def test_a_rehashed_row_is_named_by_its_person_index() -> None:
    entries = chain(10)
    body = entries[4].body.replace('"p5"', '"p9"')
    entries[4] = replace(entries[4], body=body, hash=chain_hash(entries[4].prev_hash, body))
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.reason, report.first_fault.found) == (
        5,
        INDEX_MISMATCH,
        "person_ids",
    )


def test_a_rehashed_row_whose_columns_still_fit_is_named_by_the_next_row() -> None:
    entries = chain(10)
    record = {**entries[4].fields(), "route": "/v1/else"}
    body = canonical_json(record)
    entries[4] = replace(entries[4], body=body, hash=chain_hash(entries[4].prev_hash, body))
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.event_id, report.first_fault.reason) == (
        6,
        "e6",
        PREV_HASH_MISMATCH,
    )


def test_a_rewritten_tail_is_caught_by_the_signed_checkpoint() -> None:
    entries = chain(10)
    signed = [checkpoint_at(entries, 8)]
    rewritten = entries[:4]
    records = [{**e.fields(), "actor": "nobody"} for e in entries[4:]]
    rewritten += extend(replace(EMPTY_HEAD, seq=4, hash=entries[3].hash), records, recorded_at=NOW)
    report = verify(rewritten, signed, open_token=opener)
    assert report.first_fault is None
    assert [(f.seq, f.reason) for f in report.checkpoint_faults] == [(8, CHECKPOINT_HASH_MISMATCH)]
    assert not report.ok


def test_a_deleted_row_is_a_gap_named_at_the_row_after_it() -> None:
    entries = chain(10)
    del entries[3]
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.event_id, report.first_fault.reason) == (
        5,
        "e5",
        SEQ_GAP,
    )


def test_a_deleted_first_row_is_a_gap() -> None:
    report = verify(chain(3)[1:])
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.reason) == (2, SEQ_GAP)


def test_a_changed_prev_hash_is_named() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], prev_hash="f" * 64)
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.reason) == (3, PREV_HASH_MISMATCH)


def test_a_changed_query_column_is_named() -> None:
    entries = chain(5)
    entries[1] = replace(entries[1], index=replace(entries[1].index, actor="someone-else"))
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.reason) == (2, INDEX_MISMATCH)
    assert report.first_fault.found == "actor"


def test_a_removed_person_index_row_is_named() -> None:
    entries = chain(5)
    entries[3] = replace(entries[3], index=replace(entries[3].index, person_ids=()))
    report = verify(entries)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.found) == (4, "person_ids")


def test_a_body_that_is_not_canonical_is_named_even_when_its_hash_fits() -> None:
    entries = chain(3)
    spaced = entries[0].body.replace(",", ", ")
    digest = chain_hash(GENESIS_HASH, spaced)
    entries[0] = replace(entries[0], body=spaced, hash=digest)
    entries[1] = replace(entries[1], prev_hash=digest, hash=chain_hash(digest, entries[1].body))
    report = verify(entries[:2])
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.reason) == (1, BODY_NOT_CANONICAL)


def test_a_truncated_tail_is_caught_by_a_checkpoint_beyond_the_head() -> None:
    entries = chain(10)
    report = verify(entries[:6], [checkpoint_at(entries, 9)], open_token=opener)
    assert report.first_fault is None
    assert [(f.seq, f.reason) for f in report.checkpoint_faults] == [(9, ROWS_MISSING)]


def test_a_forged_checkpoint_signature_is_reported() -> None:
    entries = chain(4)
    forged = replace(checkpoint_at(entries, 2), token="forged")
    report = verify(entries, [forged], open_token=opener)
    assert [(f.seq, f.reason) for f in report.checkpoint_faults] == [(2, BAD_SIGNATURE)]


def test_a_checkpoint_whose_columns_differ_from_what_was_signed_is_reported() -> None:
    entries = chain(4)
    moved = replace(checkpoint_at(entries, 2), seq=3, hash=entries[2].hash)
    report = verify(entries, [moved], open_token=opener)
    assert [(f.seq, f.reason) for f in report.checkpoint_faults] == [(3, PAYLOAD_MISMATCH)]


def test_feeding_page_by_page_gives_the_same_report_as_one_list() -> None:
    entries = chain(25)
    entries[17] = replace(entries[17], body=entries[17].body + " ")
    verifier = ChainVerifier()
    for start in range(0, 25, 7):
        verifier.feed(entries[start : start + 7])
    assert verifier.finish() == verify(entries)


def test_checkpoint_payload_is_canonical_json_of_its_claims() -> None:
    checkpoint = Checkpoint(seq=3, hash="a" * 64, signed_at=NOW, municipality="143669")
    assert checkpoint.payload() == canonical_json(checkpoint.claims()).encode()
    assert checkpoint.claims()["signed_at"] == "2026-04-01T03:00:00.000000Z"


def test_a_record_without_a_readable_time_keeps_an_empty_time_column_that_cannot_be_filled_in() -> None:
    (entry,) = extend(EMPTY_HEAD, [{"event_id": "e1", "occurred_at": "yesterday"}], recorded_at=NOW)
    assert entry.index.occurred_at == ""
    assert verify([entry]).ok
    moved = replace(entry, index=replace(entry.index, occurred_at="2026-04-01T03:00:00.000000Z"))
    fault = verify([moved]).first_fault
    assert fault is not None and (fault.reason, fault.found) == (INDEX_MISMATCH, "occurred_at")
