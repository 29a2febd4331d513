"""Auditors' queries over a real database; every query is itself appended to the ledger (recorder "audit")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mimamori.audit.adapters.event_mapping import access_fields
from mimamori.audit.domain.ledger import EntryQuery, LedgerEntry
from mimamori.audit.service_layer import queries
from mimamori.audit.service_layer.verification import verify_ledger
from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.auth import AccessContext

from .conftest import AuditDatabase

pytestmark = pytest.mark.integration

# Wednesday 2026-04-01 10:00 JST.
WEEKDAY_NOON_JST = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
AUDITOR = AccessContext(
    subject="auditor-1",
    roles=["auditor"],
    purpose="audit_disclosure",
    decision_id="d-1",
    municipality="143669",
)


def access(
    at: datetime,
    *,
    actor: str = "staff-1",
    persons: tuple[str, ...] = ("p1",),
    outcome: int = access_pb2.OUTCOME_ALLOWED,
    recorder: str = "casework",
    purpose: str = "case_support",
    break_glass: bool = False,
) -> access_pb2.AccessRecorded:
    return access_pb2.AccessRecorded(
        event_id=str(uuid.uuid4()),
        occurred_at=at.isoformat(),
        recorder=recorder,
        actor=actor,
        purpose=purpose,
        action="read",
        route="/v1/x",
        person_ids=list(persons),
        outcome=outcome,  # type: ignore[arg-type]
        break_glass=break_glass,
    )


async def seed(db: AuditDatabase, *messages: access_pb2.AccessRecorded) -> None:
    async with db.uow() as uow:
        await uow.ledger.append([access_fields(m) for m in messages])
        await uow.commit()


async def last_entry(db: AuditDatabase) -> LedgerEntry:
    async with db.uow() as uow:
        head = await uow.ledger.head()
        (entry,) = await uow.ledger.page(after_seq=head.seq - 1, limit=1)
        return entry


async def test_entries_are_filtered_and_paged(audit_db: AuditDatabase) -> None:
    t = WEEKDAY_NOON_JST
    await seed(
        audit_db,
        access(t, actor="a"),
        access(t + timedelta(minutes=1), actor="b", outcome=access_pb2.OUTCOME_DENIED),
        access(t + timedelta(minutes=2), actor="a", recorder="gateway", purpose="early_detection"),
        access(t + timedelta(days=1), actor="a"),
    )

    async def seqs(query: EntryQuery, *, after: int = 0, limit: int = 10) -> tuple[list[int], int | None]:
        page = await queries.list_entries(
            query, uow=audit_db.uow(), context=AUDITOR, route="/v1/entries", after_seq=after, limit=limit
        )
        return [e.seq for e in page.entries], page.next_after_seq

    assert await seqs(EntryQuery(actor="a")) == ([1, 3, 4], None)
    assert await seqs(EntryQuery(outcome="denied")) == ([2], None)
    assert await seqs(EntryQuery(recorder="gateway")) == ([3], None)
    assert await seqs(EntryQuery(purpose="early_detection")) == ([3], None)
    assert await seqs(
        EntryQuery(since=t + timedelta(minutes=1), until=t + timedelta(hours=1), recorder="casework")
    ) == (
        [2],
        None,
    )
    assert await seqs(EntryQuery(actor="a"), limit=2) == ([1, 3], 3)
    assert await seqs(EntryQuery(actor="a"), after=3, limit=2) == ([4], None)


async def test_every_access_to_one_person_is_found_through_the_index_and_the_read_is_recorded(
    audit_db: AuditDatabase,
) -> None:
    t = WEEKDAY_NOON_JST
    await seed(
        audit_db,
        access(t, persons=("p1", "p2")),
        access(t, persons=("p3",)),
        access(t, persons=("p2",), actor="b"),
    )
    page = await queries.person_accesses(
        "p2",
        EntryQuery(),
        uow=audit_db.uow(),
        context=AUDITOR,
        route="/v1/persons/{person_id}/accesses",
        after_seq=0,
        limit=50,
    )
    assert [e.seq for e in page.entries] == [1, 3]
    recorded = (await last_entry(audit_db)).fields()
    assert recorded["recorder"] == "audit"
    assert recorded["actor"] == "auditor-1"
    assert recorded["purpose"] == "audit_disclosure"
    assert recorded["person_ids"] == ["p2"]
    assert recorded["route"] == "/v1/persons/{person_id}/accesses"
    # The auditor's own read is now an access to p2 as well.
    again = await queries.person_accesses(
        "p2", EntryQuery(), uow=audit_db.uow(), context=AUDITOR, route="/r", after_seq=0, limit=50
    )
    assert [e.seq for e in again.entries] == [1, 3, 4]


async def test_one_actors_accesses(audit_db: AuditDatabase) -> None:
    t = WEEKDAY_NOON_JST
    await seed(audit_db, access(t, actor="a"), access(t, actor="b"), access(t, actor="a"))
    page = await queries.actor_accesses(
        "a", EntryQuery(actor="b"), uow=audit_db.uow(), context=AUDITOR, route="/r", after_seq=0, limit=50
    )
    assert [e.seq for e in page.entries] == [1, 3]


async def test_unusual_review_flags_night_weekend_break_glass_and_mass_lookups(
    audit_db: AuditDatabase,
) -> None:
    night = datetime(2026, 4, 1, 14, 30, tzinfo=UTC)  # 23:30 JST Wednesday
    saturday = datetime(2026, 4, 4, 2, 0, tzinfo=UTC)  # 11:00 JST Saturday
    day = WEEKDAY_NOON_JST
    await seed(
        audit_db,
        access(day),
        access(night, actor="owl"),
        access(saturday, actor="weekender"),
        access(day, actor="emergency", break_glass=True),
        *[access(day + timedelta(minutes=i), actor="hoover", persons=(f"q{i}",)) for i in range(12)],
        # Denied lookups touched nobody's data: not a mass lookup.
        *[
            access(day, actor="denied", persons=(f"r{i}",), outcome=access_pb2.OUTCOME_DENIED)
            for i in range(12)
        ],
    )
    review = await queries.review_unusual(
        uow=audit_db.uow(),
        context=AUDITOR,
        route="/v1/reviews/unusual",
        since=day - timedelta(days=1),
        until=day + timedelta(days=7),
        threshold=10,
        window=timedelta(hours=1),
        limit=100,
    )
    flagged = {a.entry.index.actor: a.reasons for a in review.accesses}
    assert flagged == {"owl": ("night",), "weekender": ("weekend",), "emergency": ("break_glass",)}
    assert [(m.actor, m.persons) for m in review.mass_lookups] == [("hoover", 12)]
    assert not review.truncated
    assert (await last_entry(audit_db)).fields()["action"] == "review"


async def test_verification_through_the_service_is_recorded(audit_db: AuditDatabase) -> None:
    await seed(audit_db, access(WEEKDAY_NOON_JST))
    report = await queries.verify(
        uow=audit_db.uow(), context=AUDITOR, route="/v1/verify", open_token=lambda _: None
    )
    assert report.ok and report.rows_checked == 1
    assert (await last_entry(audit_db)).fields()["action"] == "verify"
    async with audit_db.uow() as uow:
        after = await verify_ledger(ledger=uow.ledger, checkpoints=uow.checkpoints, open_token=None)
    assert after.ok and after.rows_checked == 2
