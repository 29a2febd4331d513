from dataclasses import replace
from datetime import date

import pytest

from mimamori.identity.domain.model import (
    REMOVED,
    Change,
    MatchGrade,
    Person,
    Provenance,
    RecordUpdate,
    RecordValues,
    SourceDate,
    SourceRecord,
    link_by_atena_no,
    receive_record,
)

FIRST = Provenance(file_name="jumin_202604.csv", row=7, file_sha256="a" * 64, load_run_id="run-1")
SECOND = Provenance(file_name="jumin_202605.csv", row=9, file_sha256="b" * 64, load_run_id="run-2")
VALUES = RecordValues(
    atena_no="0000012345",
    setai_code="1000000001",
    name="髙橋\U000e0100　花子",  # a variant form with an IVS selector stays as given
    name_kana="ﾀｶﾊｼ ﾊﾅｺ",
    sex="2",
    birth_date=SourceDate("19880401", "1988-04-01"),
    zokugara="世帯主",
    address="神奈川県足柄上郡開成町延沢１２３番地",
    resident_status="住民",
)


def receive(
    existing: SourceRecord | None, change: Change, values: RecordValues, provenance: Provenance = FIRST
) -> RecordUpdate:
    return receive_record(
        existing,
        record_key="143669:jumin:0000012345",
        source="jumin",
        municipality="143669",
        change=change,
        values=values,
        provenance=provenance,
    )


def test_first_sight_is_a_change_with_a_new_name() -> None:
    update = receive(None, Change.ADDED, VALUES)
    assert update.changed and update.name_changed
    assert update.after.values.name == VALUES.name and update.after.resident
    assert update.households == ("1000000001",)


def test_an_unchanged_reload_changes_nothing_and_keeps_the_first_provenance() -> None:
    record = receive(None, Change.ADDED, VALUES).after
    again = receive(record, Change.CHANGED, VALUES, SECOND)
    assert not again.changed
    assert again.after.provenance == FIRST and again.after.version == 1


def test_a_move_names_both_households_and_takes_the_new_provenance() -> None:
    record = receive(None, Change.ADDED, VALUES).after
    moved = receive(record, Change.CHANGED, replace(VALUES, setai_code="1000000002"), SECOND)
    assert moved.changed and not moved.name_changed
    assert moved.moved_from == "1000000001"
    assert moved.households == ("1000000001", "1000000002")
    assert (moved.after.version, moved.after.provenance) == (2, SECOND)


def test_removal_carrying_only_the_key_keeps_the_last_values_and_ends_residence() -> None:
    record = receive(None, Change.ADDED, VALUES).after
    removed = receive(record, Change.REMOVED, RecordValues(atena_no=""), SECOND)
    assert removed.changed and not removed.after.present
    assert removed.after.values == VALUES
    assert not removed.after.resident and removed.after.resident_status == REMOVED


def test_a_record_marked_removed_by_the_source_is_not_resident() -> None:
    record = receive(None, Change.ADDED, replace(VALUES, resident_status="消除")).after
    assert record.present and not record.resident


def test_a_certain_link_needs_the_same_atena_no() -> None:
    record = receive(None, Change.ADDED, VALUES).after
    link = link_by_atena_no(record, Person.first_seen(atena_no="0000012345"))
    assert (link.grade, link.reason.value) == (MatchGrade.CERTAIN, "atena_no")
    with pytest.raises(ValueError):
        link_by_atena_no(record, Person.first_seen(atena_no="0000099999"))


@pytest.mark.parametrize(
    ("raw", "latest"),
    [("19500000", date(1950, 12, 31)), ("19501200", date(1950, 12, 31)), ("19000229", date(1900, 2, 28))],
)
def test_partly_unknown_dates_are_kept_and_bounded(raw: str, latest: date) -> None:
    value = SourceDate(raw=raw)
    assert value.parsed is None and value.latest_possible() == latest
