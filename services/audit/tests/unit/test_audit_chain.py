"""The chain's maths: canonical JSON, the hash, linking rows."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime

from mimamori.audit.domain.ledger import (
    EMPTY_HEAD,
    GENESIS_HASH,
    ChainHead,
    canonical_json,
    chain_hash,
    extend,
    index_of,
    outcome_code,
    utc_text,
)

NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


def record(n: int, **extra: object) -> dict[str, object]:
    return {
        "event_id": f"e{n}",
        "occurred_at": "2026-04-01T03:00:00.000001+00:00",
        "recorder": "casework",
        "actor": "staff-1",
        "purpose": "case_support",
        "outcome": "OUTCOME_ALLOWED",
        "person_ids": ["p2", "p1"],
        "break_glass": False,
        **extra,
    }


def test_canonical_json_sorts_keys_keeps_utf8_and_drops_whitespace() -> None:
    text = canonical_json({"b": 1, "a": ["見守り", {"z": True, "y": None}]})
    assert text == '{"a":["見守り",{"y":null,"z":true}],"b":1}'


def test_canonical_json_is_the_same_whatever_the_key_order() -> None:
    assert canonical_json({"x": 1, "y": 2}) == canonical_json({"y": 2, "x": 1})


def test_chain_hash_is_sha256_of_previous_hash_bytes_then_body_bytes() -> None:
    body = '{"a":"見"}'
    expected = hashlib.sha256(bytes(32) + body.encode("utf-8")).hexdigest()
    assert chain_hash(GENESIS_HASH, body) == expected
    assert GENESIS_HASH == "0" * 64


def test_extend_links_each_row_to_the_one_before() -> None:
    entries = extend(EMPTY_HEAD, [record(1), record(2), record(3)], recorded_at=NOW)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
        assert after.hash == chain_hash(before.hash, after.body)


def test_extend_continues_after_the_head() -> None:
    head = ChainHead(seq=41, hash="ab" * 32)
    (entry,) = extend(head, [record(42)], recorded_at=NOW)
    assert entry.seq == 42
    assert entry.prev_hash == head.hash
    assert entry.hash == chain_hash(head.hash, canonical_json(record(42)))


def test_a_changed_body_changes_its_hash_and_every_later_one() -> None:
    original = extend(EMPTY_HEAD, [record(1), record(2)], recorded_at=NOW)
    changed = extend(EMPTY_HEAD, [record(1, actor="someone-else"), record(2)], recorded_at=NOW)
    assert original[0].hash != changed[0].hash
    assert original[1].hash != changed[1].hash


def test_index_is_derived_from_the_body() -> None:
    index = index_of(record(1, outcome="OUTCOME_DENIED", person_ids=["p2", "p1", "p2"], break_glass=True))
    assert index.person_ids == ("p1", "p2")
    assert index.outcome == "denied"
    assert index.break_glass is True
    assert index.occurred_at == "2026-04-01T03:00:00.000001Z"


def test_times_become_fixed_width_utc_text_that_sorts_as_time() -> None:
    jst = index_of(record(1, occurred_at="2026-04-01T12:00:00+09:00")).occurred_at
    assert jst == "2026-04-01T03:00:00.000000Z"
    assert utc_text(datetime(2026, 4, 1, 2, 59, 59, 999999, tzinfo=UTC)) < jst
    assert index_of(record(1, occurred_at="not a time")).occurred_at == ""


def test_outcome_codes() -> None:
    assert outcome_code("OUTCOME_ERROR") == "error"
    assert outcome_code(7) == "7"
