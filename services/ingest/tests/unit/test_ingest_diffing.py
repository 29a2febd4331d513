"""Differences between deliveries, the checks of one batch, and the events records become."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from mimamori.events.ingest.v1 import person_record_pb2
from mimamori.ingest.adapters.events import EventMapper, Provenance
from mimamori.ingest.adapters.layouts import load_layouts
from mimamori.ingest.domain.delivery import DeliveredFile, LoadRun, RunStatus
from mimamori.ingest.domain.layout import Layout
from mimamori.ingest.domain.records import (
    DIGEST,
    RECORD_KEY,
    RECORD_KEY_NAMESPACE,
    ROW,
    Change,
    LoadCounts,
    Previous,
    SourceRecord,
    classify,
    record_key,
)
from mimamori.ingest.service_layer.handlers import Preparation
from mimamori.ingest.service_layer.unit_of_work import time_ordered_prefix

MUNICIPALITY = "143669"


@pytest.fixture(scope="module")
def layout() -> Layout:
    return load_layouts()["jumin"]


def record(layout: Layout, values: list[str], row: int = 1) -> SourceRecord:
    return SourceRecord.of(layout, municipality=MUNICIPALITY, row=row, values=values)


def key(natural: str) -> str:
    return record_key(municipality=MUNICIPALITY, source="jumin", natural=natural)


def a_run() -> LoadRun:
    now = datetime.now(UTC)
    file = DeliveredFile(
        id="f1",
        name="jumin_202604.csv",
        source="jumin",
        month="202604",
        sha256="0" * 64,
        size=1,
        received_at=now,
    )
    return LoadRun(id="r1", file=file, status=RunStatus.RUNNING, created_at=now)


def test_unknown_record_is_added_known_equal_unchanged_known_different_changed(layout: Layout, jumin) -> None:
    before = record(layout, jumin.row())
    same = record(layout, jumin.row(), row=9)
    moved = record(layout, jumin.row(住所="神奈川県足柄上郡開成町吉田島１番地"))
    assert classify(None, before.digest) is Change.ADDED
    assert classify(Previous(digest=before.digest, removed=False), same.digest) is Change.UNCHANGED
    assert classify(Previous(digest=before.digest, removed=False), moved.digest) is Change.CHANGED


def test_a_record_back_after_removal_is_added_again(layout: Layout, jumin) -> None:
    back = record(layout, jumin.row())
    assert classify(Previous(digest=back.digest, removed=True), back.digest) is Change.ADDED


def test_digest_depends_on_every_value_but_not_on_the_row(layout: Layout, jumin) -> None:
    base = record(layout, jumin.row())
    assert record(layout, jumin.row(), row=500).digest == base.digest
    for column in jumin.header[1:]:
        changed = jumin.row(**{column: "1" if column == "支援措置" else "9"})
        assert record(layout, changed).digest != base.digest, column


def test_record_key_is_stable_opaque_and_scoped(layout: Layout, jumin) -> None:
    one = record(layout, jumin.row("0000000018"))
    again = record(layout, jumin.row("0000000018", 氏名="山田　花"))
    assert one.record_key == again.record_key
    assert "0000000018" not in one.record_key
    assert one.record_key != record_key(municipality="143642", source="jumin", natural="0000000018")
    assert one.record_key != record_key(municipality=MUNICIPALITY, source="zeimu", natural="0000000018")
    assert one.natural_key == "0000000018"


def test_batch_quarantines_duplicates_and_remembers_every_key_it_saw(layout: Layout, jumin) -> None:
    rows = [
        (1, jumin.row("0000000018")),
        (2, jumin.row("0000000018", 氏名="山田　花")),  # the same 宛名番号 again
        (3, jumin.row("0000000026", 続柄="長男")),  # quarantined, but its key is readable
        (4, jumin.row("0000000034")),
    ]
    preparation = Preparation(iter(rows), layout=layout, run=a_run(), municipality=MUNICIPALITY)
    batch = preparation.take(10)
    assert [r[ROW] for r in batch.records] == [1, 4]
    assert [(p["row"], p["column"], p["reason_code"]) for p in batch.problems] == [(3, "続柄", "unknown_code")]
    # row 2 repeats row 1's key: same row or another is decided against the file's first row with it (applying)
    assert [(row, key) for row, key, _ in batch.repeats] == [(2, batch.records[0][RECORD_KEY])]
    assert batch.repeats[0][2] != batch.records[0][DIGEST]
    assert (batch.rows, batch.quarantined) == (4, 2)
    # the keys met go to the database with the batch: a later batch's row with one of them is a duplicate too
    assert list(batch.met) == [key(n) for n in ("0000000018", "0000000026", "0000000034")]
    assert batch.met[key("0000000026")] == ""  # quarantined: a later valid row with its key is a duplicate_key
    assert not preparation.keyless
    assert all(p["run_id"] == "r1" and p["file_id"] == "f1" for p in batch.problems)


def test_an_unreadable_key_makes_removals_untrustworthy(layout: Layout, jumin) -> None:
    rows = [(1, jumin.row("0000000018")), (2, jumin.row("00000000"))]
    preparation = Preparation(iter(rows), layout=layout, run=a_run(), municipality=MUNICIPALITY)
    preparation.take(10)
    assert preparation.keyless


def test_batches_are_cut_at_the_batch_size(layout: Layout, jumin) -> None:
    rows = list(enumerate(jumin.town(7), start=1))
    rows[4] = (5, jumin.row("bad"))
    preparation = Preparation(iter(rows), layout=layout, run=a_run(), municipality=MUNICIPALITY)
    sizes = []
    while (batch := preparation.take(3)).rows:
        sizes.append((batch.rows, len(batch.records), batch.quarantined))
    assert sizes == [(3, 3, 0), (3, 2, 1), (1, 1, 0)]


def test_counts_tally_each_change() -> None:
    counts = LoadCounts(rows=4)
    for change in (Change.ADDED, Change.ADDED, Change.CHANGED, Change.UNCHANGED, Change.REMOVED):
        counts.count(change)
    assert counts.as_dict() == {
        "rows": 4,
        "added": 2,
        "changed": 1,
        "unchanged": 1,
        "removed": 1,
        "quarantined": 0,
    }


def test_event_keeps_values_as_given_beside_parsed_dates(layout: Layout, jumin) -> None:
    mapper = EventMapper(layout)
    values = jumin.row("0000000018", 氏名="髙﨑　\ue000子", 生年月日="19500000", 支援措置="1", 住民日="20150612")
    provenance = Provenance(
        source="jumin",
        municipality=MUNICIPALITY,
        file_name="jumin_202604.csv",
        file_sha256="ab" * 32,
        load_run_id="r1",
    )
    rec = record(layout, values, row=12)
    event = mapper.event(
        values=rec.values, record_key=rec.record_key, change=Change.ADDED, provenance=provenance, row=rec.row
    )
    assert isinstance(event, person_record_pb2.PersonRecordReceived)
    assert (event.atena_no, event.name, event.name_kana) == ("0000000018", "髙﨑　\ue000子", "ﾔﾏﾀﾞ ﾊﾅｺ")
    assert (event.birth_date.raw, event.birth_date.iso) == ("19500000", "")
    assert (event.resident_since.raw, event.resident_since.iso) == ("20150612", "2015-06-12")
    assert event.dv_support is True
    assert event.change == person_record_pb2.RECORD_CHANGE_ADDED
    assert (event.provenance.row, event.provenance.file_name, event.provenance.load_run_id) == (
        12,
        "jumin_202604.csv",
        "r1",
    )
    assert event.record_key == rec.record_key
    removed = mapper.event(
        values=rec.values, record_key=rec.record_key, change=Change.REMOVED, provenance=provenance, row=0
    )
    assert removed.change == person_record_pb2.RECORD_CHANGE_REMOVED
    assert removed.dv_support is True and removed.provenance.row == 0


def test_person_record_carries_the_delivery_month(layout: Layout, jumin) -> None:
    mapper = EventMapper(layout)
    rec = record(layout, jumin.row("0000000018"), row=3)
    monthly = Provenance("jumin", MUNICIPALITY, "jumin_202605.csv", "cd" * 32, "r2", month="202605")
    event = mapper.event(values=rec.values, record_key=rec.record_key, change=Change.REMOVED, provenance=monthly, row=0)
    assert isinstance(event, person_record_pb2.PersonRecordReceived)
    assert event.month == "202605"
    unmonthed = Provenance("jumin", MUNICIPALITY, "jumin.csv", "cd" * 32, "r3")
    assert mapper.event(values=rec.values, record_key=rec.record_key, provenance=unmonthed, row=1).month == ""


def test_record_key_is_the_uuid5_of_municipality_source_and_key() -> None:
    # consumers key their state by it: the fast computation must stay the RFC 4122 UUIDv5 it always was
    for natural in ("0000000018", "髙﨑|2024-04-01", "a#2", ""):
        expected = uuid.uuid5(RECORD_KEY_NAMESPACE, f"{MUNICIPALITY}/jumin/{natural}")
        assert record_key(municipality=MUNICIPALITY, source="jumin", natural=natural) == str(expected)


def test_event_ids_of_a_batch_are_version_7_uuids_in_order() -> None:
    moment = datetime.now(UTC)
    first, second = time_ordered_prefix(moment), time_ordered_prefix(moment)
    assert first != second  # random bits per batch
    ids = [uuid.UUID(first + f"{n:08x}") for n in (1, 2, 10, 5000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids) and int.from_bytes(ids[0].bytes[:6]) == int(moment.timestamp() * 1000)
