"""identity consuming 住民記録 rows: persons, links, households, histories and the events it emits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mimamori.events.identity.v1 import person_pb2

pytestmark = pytest.mark.integration

A, B = "1000000001", "1000000002"


def family(identity: Any, setai_code: str = A) -> list[Any]:
    """Mother as 世帯主, her 夫 and two children."""
    return [
        identity.row_of("0000000011", setai_code=setai_code, zokugara="世帯主", sex="2", birth="19880401"),
        identity.row_of("0000000012", setai_code=setai_code, zokugara="夫", sex="1", birth="19860101"),
        identity.row_of("0000000013", setai_code=setai_code, zokugara="子", birth="20150501", kana="ｶｲｾｲ ｲﾁﾛｳ"),
        identity.row_of("0000000014", setai_code=setai_code, zokugara="子", birth="20180701", kana="ｶｲｾｲ ｼﾞﾛｳ"),
    ]


async def test_first_sight_of_each_atena_no_creates_a_person_linked_with_certainty(identity: Any) -> None:
    await identity.feed(*family(identity))
    linked = identity.linked()
    assert await identity.count("persons") == 4
    assert sorted(m.atena_no for m in linked) == ["0000000011", "0000000012", "0000000013", "0000000014"]
    assert {(m.grade, m.created, m.reason, m.source) for m in linked} == {
        (person_pb2.MATCH_GRADE_CERTAIN, True, "atena_no", "jumin")
    }
    assert len({m.person_id for m in linked}) == 4


async def test_household_is_announced_with_members_parents_and_siblings(identity: Any) -> None:
    await identity.feed(*family(identity))
    announcements = identity.households()
    assert [h.version for h in announcements] == [1, 2, 3, 4]
    last = announcements[-1]
    assert last.setai_code == A and len(last.members) == 4
    ids = {a: await identity.person_id(a) for a in ("0000000011", "0000000012", "0000000013", "0000000014")}
    by_person = {m.person_id: m for m in last.members}
    mother, father, first, _ = (by_person[ids[a]] for a in sorted(ids))
    assert mother.is_head and not father.is_head
    assert sorted(first.parent_person_ids) == sorted([ids["0000000011"], ids["0000000012"]])
    assert list(first.sibling_person_ids) == [ids["0000000014"]]
    assert list(mother.parent_person_ids) == [] and list(father.sibling_person_ids) == []
    assert (first.birth_date, first.birth_date_raw, first.resident) == ("2015-05-01", "20150501", True)


async def test_redelivered_event_and_unchanged_reload_change_nothing(identity: Any) -> None:
    rows = family(identity)
    envelopes = await identity.feed(*rows)
    before = [await identity.count(t) for t in ("outbox", "source_record_versions", "name_history", "persons")]
    await identity.feed(*envelopes)  # the same events again (at-least-once delivery)
    reloaded = [replace_file(row, "jumin_202605.csv") for row in rows]
    await identity.feed(*reloaded)  # next month's file, same values
    after = [await identity.count(t) for t in ("outbox", "source_record_versions", "name_history", "persons")]
    assert after == before
    assert await identity.count("processed_messages") == 8


def replace_file(row: Any, file_name: str) -> Any:
    copy = type(row)()
    copy.CopyFrom(row)
    copy.provenance.file_name = file_name
    copy.change = 2  # RECORD_CHANGE_CHANGED
    return copy


async def test_household_move_announces_both_households(identity: Any) -> None:
    rows = family(identity)
    await identity.feed(*rows)
    moved = identity.row_of(
        "0000000012",
        setai_code=B,
        zokugara="世帯主",
        birth="19860101",
        change="changed",
        change_reason="世帯変更",
        change_date="20260415",
    )
    await identity.feed(moved)
    later = identity.households()[4:]
    assert sorted((h.setai_code, h.version) for h in later) == [(A, 5), (B, 1)]
    father = await identity.person_id("0000000012")
    old = next(h for h in later if h.setai_code == A)
    new = next(h for h in later if h.setai_code == B)
    assert father not in {m.person_id for m in old.members} and len(old.members) == 3
    assert [(m.person_id, m.is_head) for m in new.members] == [(father, True)]
    child = next(m for m in old.members if m.zokugara == "子")
    # The child now lives with one parent.
    assert list(child.parent_person_ids) == [await identity.person_id("0000000011")]

    stays = identity.module.tables["household_memberships"]
    assert identity.module.sessions is not None
    async with identity.module.sessions() as session:
        history = (
            await session.execute(
                select(stays.c.joined_on_raw, stays.c.left_on_raw)
                .where(stays.c.person_id == father)
                .order_by(stays.c.id)
            )
        ).all()
    assert [tuple(r) for r in history] == [("20240401", "20260415"), ("20260415", None)]


async def test_each_announcement_is_as_of_the_month_of_the_delivery_that_changed_it(identity: Any) -> None:
    await identity.feed(*(replace_month(row, "202604") for row in family(identity)))
    assert {h.month for h in identity.households()} == {"202604"}
    moved = identity.row_of(
        "0000000012", setai_code=B, zokugara="世帯主", birth="19860101", change="changed", month="202605"
    )
    await identity.feed(moved)
    later = identity.households()[4:]
    assert sorted((h.setai_code, h.version, h.month) for h in later) == [(A, 5, "202605"), (B, 1, "202605")]


def replace_month(row: Any, month: str) -> Any:
    copy = type(row)()
    copy.CopyFrom(row)
    copy.month = month
    return copy


async def test_removed_record_marks_the_person_removed_and_is_announced(identity: Any) -> None:
    rows = family(identity)
    await identity.feed(*rows)
    gone = type(rows[1])(record_key=rows[1].record_key, change=3)  # REMOVED carrying only its key
    gone.provenance.CopyFrom(rows[1].provenance)
    await identity.feed(gone)
    last = identity.households()[-1]
    father = await identity.person_id("0000000012")
    assert last.version == 5
    assert {m.person_id: m.resident for m in last.members}[father] is False
    async with identity.client() as http:
        view = (await http.get(f"/v1/persons/{father}", headers=identity.headers())).json()
    assert view["resident_status"] == "消除"
    assert view["name"] == "開成　太郎"  # the last known values stay
    assert view["sources"][0]["records"][0]["present"] is False


async def test_name_change_appends_history_without_a_household_announcement(identity: Any) -> None:
    rows = family(identity)
    await identity.feed(*rows)
    renamed = identity.row_of(
        "0000000011",
        setai_code=A,
        zokugara="世帯主",
        sex="2",
        birth="19880401",
        name="足柄　花子",
        kana="ｱｼｶﾞﾗ ﾊﾅｺ",
        change="changed",
        change_reason="氏名変更",
        change_date="20260410",
    )
    await identity.feed(renamed)
    assert len(identity.households()) == 4  # a name is not a fact others are told
    mother = await identity.person_id("0000000011")
    assert await identity.count("source_record_versions") == 5
    async with identity.client() as http:
        view = (await http.get(f"/v1/persons/{mother}", headers=identity.headers())).json()
    assert [(n["name"], n["change_reason"]) for n in view["name_history"]] == [
        ("開成　太郎", "転入"),
        ("足柄　花子", "氏名変更"),
    ]
    assert view["name"] == "足柄　花子" and view["sources"][0]["records"][0]["version"] == 2


async def test_legal_characters_ivs_and_gaiji_are_kept_as_given(identity: Any) -> None:
    legal = "髙\U000e0100橋　\ue000子"  # variant form, an IVS selector and a 外字 from the private-use area
    row = identity.row_of("0000000021", setai_code=A, zokugara="世帯主", name=legal, kana="ﾀｶﾊｼ ﾐﾂｺ")
    await identity.feed(row)
    person = await identity.person_id("0000000021")
    versions = identity.module.tables["source_record_versions"]
    assert identity.module.sessions is not None
    async with identity.module.sessions() as session:
        payload = await session.scalar(select(versions.c.payload))
    assert payload["name"] == legal and payload["name_kana"] == "ﾀｶﾊｼ ﾐﾂｺ"
    async with identity.client() as http:
        view = (await http.get(f"/v1/persons/{person}", headers=identity.headers())).json()
    assert view["name"] == legal and view["name_kana"] == "ﾀｶﾊｼ ﾐﾂｺ"


async def test_zokugara_change_of_a_member_is_announced(identity: Any) -> None:
    await identity.feed(*family(identity))
    restated = identity.row_of("0000000012", setai_code=A, zokugara="同居人", birth="19860101", change="changed")
    await identity.feed(restated)
    last = identity.households()[-1]
    assert last.version == 5
    child = next(m for m in last.members if m.birth_date_raw == "20150501")
    assert list(child.parent_person_ids) == [await identity.person_id("0000000011")]
