"""identity resolving the person references of other sources' records, in whatever order events arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mimamori.contracts import decode, event_type, topic_of
from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2
from mimamori.identity.module import IdentityModule
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.runtime.process import running

pytestmark = pytest.mark.integration

MUNICIPALITY = "143669"
HOME = "1000000001"
MOTHER, CHILD = "0000000011", "0000000013"


def family(identity: Any) -> list[Any]:
    return [
        identity.row_of(
            MOTHER, setai_code=HOME, zokugara="世帯主", sex="2", birth="19880401", name="冨田　恵", kana="ﾄﾐﾀ ﾒｸﾞﾐ"
        ),
        identity.row_of(
            CHILD, setai_code=HOME, zokugara="子", sex="2", birth="20140721", name="冨田　莉子", kana="ﾄﾐﾀ ﾘｺ"
        ),
    ]


def record(
    key: str,
    *persons: source_record_pb2.PersonReference,
    source: str = "koumu_meibo",
    month: str = "202604",
    change: int = person_record_pb2.RECORD_CHANGE_ADDED,
    row: int = 1,
) -> source_record_pb2.SourceRecordReceived:
    return source_record_pb2.SourceRecordReceived(
        record_key=f"{MUNICIPALITY}:{source}:{key}",
        provenance=provenance_pb2.SourceRef(
            source=source,
            municipality_code=MUNICIPALITY,
            file_name=f"{source}_{month}.csv",
            row=row,
            file_sha256="0" * 64,
            load_run_id="run-1",
        ),
        change=change,
        month=month,
        persons=list(persons),
    )


def pupil(name: str = "富田 莉子", birth: str = "2014-07-21", number: str = "2021002") -> Any:
    return source_record_pb2.PersonReference(
        role="child",
        name=name,
        name_kana="とみた りこ",
        sex="2",
        birth_date=person_record_pb2.SourceDate(raw=birth, iso=birth),
        address="開成町延沢123",
        school_code="B1",
        student_no=number,
        grade="6",
    )


def guardian(name: str = "富田　恵") -> Any:
    return source_record_pb2.PersonReference(role="guardian", name=name)


def resolved(identity: Any) -> list[person_pb2.ReferenceResolved]:
    return [m for m in identity.events("identity.reference.v1") if isinstance(m, person_pb2.ReferenceResolved)]


def latest(identity: Any) -> dict[tuple[str, int], person_pb2.ReferenceResolved]:
    out: dict[tuple[str, int], person_pb2.ReferenceResolved] = {}
    for m in resolved(identity):
        key = (m.record_key, m.reference_index)
        if key not in out or m.version > out[key].version:
            out[key] = m
    return out


async def test_a_roll_entry_links_the_pupil_and_the_guardian_in_her_household(identity: Any) -> None:
    await identity.feed(*family(identity))
    roll = record("B1:2021002", pupil(), guardian())
    await identity.feed(roll)
    answers = latest(identity)
    child, mother = answers[(roll.record_key, 0)], answers[(roll.record_key, 1)]
    assert child.person_id == await identity.person_id(CHILD)
    assert child.grade == person_pb2.MATCH_GRADE_CERTAIN and "birth" in child.reason
    assert mother.person_id == await identity.person_id(MOTHER) and "household" in mother.reason
    assert (child.provenance.file_name, child.provenance.row, child.role) == ("koumu_meibo_202604.csv", 1, "child")


async def test_references_that_arrive_before_their_persons_are_resolved_when_the_persons_come(identity: Any) -> None:
    benefit = record(
        "teate:1",
        source_record_pb2.PersonReference(role="recipient", atena_no=MOTHER),
        source_record_pb2.PersonReference(role="child", atena_no=CHILD),
        source="jidou_teate",
    )
    attendance = record(
        "att:1",
        source_record_pb2.PersonReference(role="child", school_code="B1", student_no="2021002"),
        source="koumu_shusseki",
    )
    roll = record("B1:2021002", pupil(), guardian())
    await identity.feed(attendance, benefit, roll)
    first = latest(identity)
    assert all(m.person_id == "" for m in first.values()) and len(first) == 5
    await identity.feed(*family(identity))
    now = latest(identity)
    mother, child = await identity.person_id(MOTHER), await identity.person_id(CHILD)
    assert now[(benefit.record_key, 0)].person_id == mother and now[(benefit.record_key, 0)].reason == "atena_no"
    assert now[(benefit.record_key, 1)].person_id == child
    assert now[(roll.record_key, 0)].person_id == child
    assert now[(attendance.record_key, 0)].person_id == child
    assert now[(attendance.record_key, 0)].reason.startswith("pupil_key")
    assert all(now[k].version > first[k].version for k in now)


async def test_removed_record_and_redelivery(identity: Any) -> None:
    await identity.feed(*family(identity))
    roll = record("B1:2021002", pupil(), guardian())
    envelopes = await identity.feed(roll)
    count = len(resolved(identity))
    await identity.feed(*envelopes)
    again = record("B1:2021002", pupil(), guardian(), month="202605", change=person_record_pb2.RECORD_CHANGE_CHANGED)
    again.provenance.file_name = "koumu_meibo_202604.csv"
    again.month = "202604"
    await identity.feed(again)
    assert len(resolved(identity)) == count  # nothing new to tell
    gone = record("B1:2021002", change=person_record_pb2.RECORD_CHANGE_REMOVED)
    await identity.feed(gone)
    answers = latest(identity)
    assert answers[(roll.record_key, 0)].removed and answers[(roll.record_key, 1)].removed
    assert answers[(roll.record_key, 0)].version == 2


async def test_namesakes_born_on_one_day_are_not_linked_and_wait_for_review(identity: Any) -> None:
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
            address="神奈川県足柄上郡開成町宮台９番地",
        ),
    )
    aid = record(
        "aid:1",
        source_record_pb2.PersonReference(
            role="child", name="富田 心春", birth_date=person_record_pb2.SourceDate(raw="H24.12.26", iso="2012-12-26")
        ),
        source="shugaku_enjo",
    )
    await identity.feed(aid)
    answer = latest(identity)[(aid.record_key, 0)]
    assert answer.person_id == "" and answer.grade == person_pb2.MATCH_GRADE_PROBABLE
    assert answer.reason.startswith("ambiguous")


def jumin(atena_no: str, *, name: str, kana: str, sex: str, birth: str, zokugara: str) -> Any:
    iso = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    return person_record_pb2.PersonRecordReceived(
        record_key=f"{MUNICIPALITY}:jumin:{atena_no}",
        provenance=provenance_pb2.SourceRef(
            source="jumin", municipality_code=MUNICIPALITY, file_name="jumin_202604.csv"
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        atena_no=atena_no,
        setai_code=HOME,
        name=name,
        name_kana=kana,
        sex=sex,
        birth_date=person_record_pb2.SourceDate(raw=birth, iso=iso),
        zokugara=zokugara,
        address="神奈川県足柄上郡開成町延沢１２３番地",
        resident_status="住民",
    )


def envelope(message: Any) -> Envelope:
    return Envelope(
        topic=topic_of(message),
        key=message.record_key,
        type=event_type(message),
        source="ingest",
        payload=message.SerializeToString(),
        municipality=MUNICIPALITY,
        actor="officer-01",
    )


async def test_out_of_order_topics_over_postgresql_and_kafka_end_resolved(
    postgres_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    settings = PlatformSettings(
        data_dir=tmp_path,
        database_url=postgres_url,
        kafka_bootstrap=kafka_bootstrap,
        kafka_namespace=f"t{unique}.",
        outbox_poll_seconds=0.2,
    )
    attendance = record(
        "att:1",
        source_record_pb2.PersonReference(role="child", school_code="B1", student_no="2021002"),
        source="koumu_shusseki",
    )
    roll = record("B1:2021002", pupil(), guardian())
    people = [
        jumin(MOTHER, name="冨田　恵", kana="ﾄﾐﾀ ﾒｸﾞﾐ", sex="2", birth="19880401", zokugara="世帯主"),
        jumin(CHILD, name="冨田　莉子", kana="ﾄﾐﾀ ﾘｺ", sex="2", birth="20140721", zokugara="子"),
    ]
    async with running(targets=["identity"], settings=settings) as runtime:
        module = runtime.module("identity")
        assert isinstance(module, IdentityModule) and module.sessions is not None
        await runtime.platform.bus.publish([envelope(attendance), envelope(roll)])
        await runtime.wait_idle(timeout=60)
        await runtime.platform.bus.publish([envelope(p) for p in people])
        await runtime.wait_idle(timeout=60)
        refs, persons, outbox = module.tables["source_references"], module.tables["persons"], module.outbox_table
        async with module.sessions() as session:
            ids = {r.atena_no: r.id for r in await session.execute(select(persons.c.atena_no, persons.c.id))}
            links = {
                (r.record_key, r.idx): r.person_id
                for r in await session.execute(select(refs.c.record_key, refs.c.idx, refs.c.person_id))
            }
            sent = [
                decode(r.type, r.payload)
                for r in await session.execute(select(outbox.c.type, outbox.c.payload).order_by(outbox.c.id))
            ]
    child, mother = ids[CHILD], ids[MOTHER]
    assert links == {(roll.record_key, 0): child, (roll.record_key, 1): mother, (attendance.record_key, 0): child}
    last: dict[tuple[str, int], person_pb2.ReferenceResolved] = {}
    for m in sent:
        if isinstance(m, person_pb2.ReferenceResolved):
            key = (m.record_key, m.reference_index)
            last[key] = m if key not in last or m.version > last[key].version else last[key]
    # Re-announced at least once after the first answer (how many times depends on how Kafka batches the rows).
    assert last[(attendance.record_key, 0)].person_id == child and last[(attendance.record_key, 0)].version >= 2
