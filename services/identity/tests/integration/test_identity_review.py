"""Review and correction through identity's API: accept, reject (never again), merge and lossless unmerge."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2

pytestmark = pytest.mark.integration

MUNICIPALITY = "143669"


def aid_record(key: str, name: str, birth: str) -> source_record_pb2.SourceRecordReceived:
    return source_record_pb2.SourceRecordReceived(
        record_key=f"{MUNICIPALITY}:shugaku_enjo:{key}",
        provenance=provenance_pb2.SourceRef(
            source="shugaku_enjo", municipality_code=MUNICIPALITY, file_name="shugaku_enjo_202604.xlsx", row=3
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        month="202604",
        persons=[
            source_record_pb2.PersonReference(
                role="child", name=name, birth_date=person_record_pb2.SourceDate(raw=birth, iso=birth)
            )
        ],
    )


async def namesakes(identity: Any) -> tuple[str, str]:
    await identity.feed(
        identity.row_of(
            "0000000021",
            setai_code="1000000002",
            zokugara="子",
            sex="2",
            birth="20121226",
            name="冨田　心春",
            kana="ﾄﾐﾀ ｺﾊﾙ",
        ),
        identity.row_of(
            "0000000022",
            setai_code="1000000003",
            zokugara="子",
            sex="2",
            birth="20121226",
            name="冨田　心春",
            kana="ﾄﾐﾀ ｺﾊﾙ",
        ),
    )
    return await identity.person_id("0000000021"), await identity.person_id("0000000022")


def answers(identity: Any) -> list[person_pb2.ReferenceResolved]:
    return [m for m in identity.events("identity.reference.v1") if isinstance(m, person_pb2.ReferenceResolved)]


async def test_queue_shows_both_sides_and_accept_applies_the_link(identity: Any) -> None:
    first, second = await namesakes(identity)
    await identity.feed(aid_record("a1", "富田 心春", "2012-12-26"))
    async with identity.client() as http:
        queue = (await http.get("/v1/review/references", headers=identity.headers())).json()["items"]
        assert len(queue) == 1
        item = queue[0]
        assert item["given"]["name"] == "富田 心春" and item["role"] == "child"
        assert {c["person_id"] for c in item["candidates"]} == {first, second}
        assert all(c["resident"]["names"] == ["冨田　心春"] for c in item["candidates"])
        accepted = await http.post(
            f"/v1/review/references/{item['reference_id']}/accept",
            json={"person_id": second},
            headers=identity.headers(),
        )
        assert accepted.status_code == 200 and accepted.json()["person_id"] == second
        assert (await http.get("/v1/review/references", headers=identity.headers())).json()["items"] == []
        view = (await http.get(f"/v1/persons/{second}", headers=identity.headers())).json()
    assert [(r["source"], r["role"], r["reason"]) for r in view["linked_references"]] == [
        ("shugaku_enjo", "child", "review_accepted")
    ]
    await identity.runtime.wait_idle()
    last = answers(identity)[-1]
    assert (last.person_id, last.version) == (second, 2)


async def test_a_rejected_candidate_is_never_proposed_again(identity: Any) -> None:
    first, second = await namesakes(identity)
    await identity.feed(aid_record("a1", "富田 心春", "2012-12-26"))
    async with identity.client() as http:
        item = (await http.get("/v1/review/references", headers=identity.headers())).json()["items"][0]
        rejected = await http.post(
            f"/v1/review/references/{item['reference_id']}/reject",
            json={"person_id": first},
            headers=identity.headers(),
        )
        assert rejected.status_code == 200
        # The rejected person is gone from the candidates for good; the other namesake waits for review.
        again = (await http.get("/v1/review/references", headers=identity.headers())).json()["items"]
    assert [[c["person_id"] for c in i["candidates"]] for i in again] == [[second]]
    refs = identity.module.tables["source_references"]
    async with identity.module.sessions() as session:
        row = (await session.execute(select(refs))).one()
    assert first not in {c["person_id"] for c in row.candidates}
    assert all(first not in {c["person_id"] for c in i["candidates"]} for i in again)
    # A person arriving later (a re-resolution) does not bring the rejected candidate back.
    await identity.feed(identity.row_of("0000000099", setai_code="1000000009", zokugara="世帯主", birth="19700101"))
    async with identity.module.sessions() as session:
        row = (await session.execute(select(refs))).one()
    assert first not in {c["person_id"] for c in row.candidates} and row.person_id != first


async def test_merge_and_unmerge_restore_exactly_the_state_before(identity: Any) -> None:
    first, second = await namesakes(identity)
    links = identity.module.tables["record_links"]

    async def state() -> list[tuple[str, str]]:
        async with identity.module.sessions() as session:
            return sorted((r.record_key, r.person_id) for r in await session.execute(select(links)))

    before = await state()
    async with identity.client() as http:
        merged = await http.post(
            "/v1/merges",
            json={"surviving_person_id": first, "merged_person_id": second, "reason": "同一人と確認"},
            headers=identity.headers(),
        )
        assert merged.status_code == 201
        merge_id = merged.json()["merge_id"]
        assert {p for _, p in await state()} == {first}
        again = await http.post(
            "/v1/merges", json={"surviving_person_id": first, "merged_person_id": second}, headers=identity.headers()
        )
        assert again.status_code == 409 and again.json()["title"] == "すでに統合されています"
        undone = await http.post(f"/v1/merges/{merge_id}/unmerge", headers=identity.headers())
        assert undone.status_code == 200
    assert await state() == before
    await identity.runtime.wait_idle()
    person_events = identity.events("identity.person.v1")
    assert any(isinstance(m, person_pb2.PersonsMerged) and m.merge_id == merge_id for m in person_events)
    assert any(isinstance(m, person_pb2.PersonUnmerged) and m.restored_person_id == second for m in person_events)


async def test_pseudonyms_are_stable_and_carry_no_person_id(identity: Any) -> None:
    first, _ = await namesakes(identity)
    await identity.feed(aid_record("a2", "冨田　心春", "2012-12-26"))
    async with identity.client() as http:
        item = (await http.get("/v1/review/references", headers=identity.headers())).json()["items"][0]
        await http.post(
            f"/v1/review/references/{item['reference_id']}/accept",
            json={"person_id": first},
            headers=identity.headers(),
        )
        analyst = identity.headers(purpose="criteria_design", roles=("analyst",))
        one = await http.get("/v1/pseudonymised/references", headers=analyst)
        two = await http.get("/v1/pseudonymised/references", headers=analyst)
        refused = await http.get("/v1/pseudonymised/references", headers=identity.headers())
    assert one.status_code == 200 and one.json() == two.json()
    (entry,) = one.json()["items"]
    assert entry["pseudonym"].startswith("ps_") and first not in one.text
    assert refused.status_code == 403


async def test_after_a_merge_the_merged_entrys_name_finds_the_survivor_and_after_unmerge_its_own_person(
    identity: Any,
) -> None:
    """Two entries of one woman (registered again under her maiden name): once merged, a record in the maiden name
    proposes the survivor; once unmerged, the restored entry again."""
    await identity.feed(
        identity.row_of(
            "0000000031",
            setai_code="1000000003",
            zokugara="世帯主",
            name="木村　智子",
            kana="ｷﾑﾗ ﾄﾓｺ",
            sex="2",
            birth="19830727",
        ),
        identity.row_of(
            "0000000032",
            setai_code="1000000004",
            zokugara="世帯主",
            name="佐藤　智子",
            kana="ｻﾄｳ ﾄﾓｺ",
            sex="2",
            birth="19830727",
            address="神奈川県足柄上郡開成町宮台９番地",
        ),
    )
    first, second = await identity.person_id("0000000031"), await identity.person_id("0000000032")
    async with identity.client() as http:
        merged = await http.post(
            "/v1/merges",
            json={"surviving_person_id": first, "merged_person_id": second, "reason": "同一人と確認"},
            headers=identity.headers(),
        )
        assert merged.status_code == 201
        await identity.feed(aid_record("m1", "佐藤 智子", ""))  # a name alone: found only by the name's keys
        refs = identity.module.tables["source_references"]
        async with identity.module.sessions() as session:
            row = (await session.execute(select(refs).where(refs.c.record_key.like("%:m1")))).one()
        assert row.candidate_id == first and row.grade == "probable"
        undone = await http.post(f"/v1/merges/{merged.json()['merge_id']}/unmerge", headers=identity.headers())
        assert undone.status_code == 200
    await identity.runtime.wait_idle()
    await identity.feed(aid_record("m2", "佐藤 智子", ""))
    async with identity.module.sessions() as session:
        row = (await session.execute(select(refs).where(refs.c.record_key.like("%:m2")))).one()
    assert row.candidate_id == second and row.grade == "probable"
