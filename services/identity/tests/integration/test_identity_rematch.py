"""Matching again after an upgrade changed the rules: persons refiled, unlinked references resolved again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, update

from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2
from mimamori.identity.service_layer.rematch import rematch
from mimamori.identity.service_layer.resolution import Origin

from .test_identity_references import CHILD, MOTHER, family, latest, record

pytestmark = pytest.mark.integration


def renamed_pupil() -> Any:
    """The roll still has the family name the register no longer has (the parents divorced)."""
    return source_record_pb2.PersonReference(
        role="child",
        name="佐藤 莉子",
        name_kana="さとう りこ",
        sex="2",
        birth_date=person_record_pb2.SourceDate(raw="2014-07-21", iso="2014-07-21"),
        address="開成町延沢123",
        school_code="B1",
        student_no="2021002",
        grade="6",
    )


async def _as_before_the_upgrade(identity: Any, record_key: str) -> None:
    """The state an older matcher left: no given-name keys, and the reference answered with no candidate."""
    module = identity.module
    keys, refs, wake = (module.tables[t] for t in ("match_keys", "source_references", "reference_keys"))
    async with module.sessions() as session:
        await session.execute(delete(keys).where(keys.c.key.like("g%")))
        await session.execute(delete(wake).where(wake.c.key.like("g%")))
        await session.execute(
            update(refs)
            .where(refs.c.record_key == record_key)
            .values(grade="no_match", reason="no_candidate", candidate_id=None, candidates=[])
        )
        await session.commit()


async def test_rematch_offers_a_renamed_pupil_for_review_and_keeps_applied_links(identity: Any) -> None:
    await identity.feed(*family(identity))
    roll = record("B1:2021002", renamed_pupil())
    linked = record(
        "teate:1", source_record_pb2.PersonReference(role="recipient", atena_no=MOTHER), source="jidou_teate"
    )
    await identity.feed(roll, linked)
    child = await identity.person_id(CHILD)
    first = latest(identity)
    assert first[(roll.record_key, 0)].grade == person_pb2.MATCH_GRADE_PROBABLE
    await _as_before_the_upgrade(identity, roll.record_key)

    units = identity.module.app.state.uow_factory
    counts = await rematch(units=units, origin=Origin(actor="cli:test", purpose="system_operation"))
    await identity.runtime.wait_idle()

    assert counts.persons == 2 and counts.records == 1  # the applied link (atena_no) is not looked at again
    answer = latest(identity)[(roll.record_key, 0)]
    assert answer.grade == person_pb2.MATCH_GRADE_PROBABLE and answer.person_id == ""
    assert "given" in answer.reason and answer.version > first[(roll.record_key, 0)].version
    assert latest(identity)[(linked.record_key, 0)].version == first[(linked.record_key, 0)].version
    async with identity.client() as client:
        queue = (await client.get("/v1/review/references", headers=identity.headers())).json()["items"]
    assert [c["person_id"] for item in queue for c in item["candidates"]] == [child]
