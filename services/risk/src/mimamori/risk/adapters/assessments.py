"""Rule versions, assessments and alerts over SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.risk.domain.rules.engine import Assessment
from mimamori.risk.domain.view import Scored

CHUNK = 500


@dataclass(frozen=True, slots=True)
class RuleVersionRow:
    """One stored version of a rule document."""

    rule_id: str
    version: int
    status: str
    title: str
    text: str
    digest: str
    created_by: str
    created_at: datetime
    adopted_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    """An assessment as stored, with what the lists filter on."""

    rule_id: str
    rule_version: int
    month: str
    person_id: str
    candidate: bool
    total: int | None
    subscores: dict[str, int]
    explanation: dict[str, Any]
    household_id: str
    school_code: str
    grade: str
    age: int | None


class RuleRepository:
    """Every version of every rule, kept; one adopted version per rule at a time."""

    def __init__(self, session: AsyncSession, *, table: Table) -> None:
        self._session = session
        self._t = table

    async def add(
        self, *, rule_id: str, version: int, title: str, text: str, digest: str, status: str, by: str
    ) -> None:
        """Store a new version (draft or adopted)."""
        now = datetime.now(UTC)
        await self._session.execute(
            insert(self._t).values(
                rule_id=rule_id,
                version=version,
                status=status,
                title=title,
                text=text,
                digest=digest,
                created_by=by,
                created_at=now,
                adopted_at=now if status == "adopted" else None,
            )
        )

    async def adopt(self, rule_id: str, version: int) -> None:
        """Make a version the adopted one; the one adopted before is superseded (kept)."""
        t = self._t
        await self._session.execute(
            update(t).where(and_(t.c.rule_id == rule_id, t.c.status == "adopted")).values(status="superseded")
        )
        await self._session.execute(
            update(t)
            .where(and_(t.c.rule_id == rule_id, t.c.version == version))
            .values(status="adopted", adopted_at=datetime.now(UTC))
        )

    async def get(self, rule_id: str, version: int) -> RuleVersionRow | None:
        """One version."""
        t = self._t
        row = (
            await self._session.execute(select(t).where(and_(t.c.rule_id == rule_id, t.c.version == version)))
        ).first()
        return _rule(row) if row is not None else None

    async def versions(self, rule_id: str | None = None) -> list[RuleVersionRow]:
        """Every version (of one rule), oldest first."""
        t = self._t
        query = select(t).order_by(t.c.rule_id, t.c.version)
        if rule_id is not None:
            query = query.where(t.c.rule_id == rule_id)
        return [_rule(row) for row in await self._session.execute(query)]

    async def adopted(self) -> list[RuleVersionRow]:
        """The adopted version of each rule."""
        t = self._t
        return [_rule(row) for row in await self._session.execute(select(t).where(t.c.status == "adopted"))]

    async def next_version(self, rule_id: str) -> int:
        """One more than the highest stored version."""
        t = self._t
        value = (await self._session.execute(select(func.max(t.c.version)).where(t.c.rule_id == rule_id))).scalar()
        return int(value or 0) + 1


def _rule(row: Any) -> RuleVersionRow:
    return RuleVersionRow(
        rule_id=row.rule_id,
        version=int(row.version),
        status=row.status,
        title=row.title,
        text=row.text,
        digest=row.digest,
        created_by=row.created_by,
        created_at=row.created_at,
        adopted_at=row.adopted_at,
    )


class AssessmentRepository:
    """Assessments per (rule, version, month, child), and the alert feed."""

    def __init__(self, session: AsyncSession, *, assessments: Table, alerts: Table) -> None:
        self._session = session
        self._a = assessments
        self._alerts = alerts

    async def replace(self, *, rule_id: str, version: int, month: str, scored: Sequence[Scored]) -> None:
        """Store these assessments in place of the stored ones of the same children."""
        a = self._a
        ids = [s.assessment.person_id for s in scored]
        for start in range(0, len(ids), CHUNK):
            await self._session.execute(
                delete(a).where(
                    and_(
                        a.c.rule_id == rule_id,
                        a.c.rule_version == version,
                        a.c.month == month,
                        a.c.person_id.in_(ids[start : start + CHUNK]),
                    )
                )
            )
        now = datetime.now(UTC)
        if self._session.get_bind().dialect.name == "postgresql":
            await self._copy(rule_id=rule_id, version=version, month=month, scored=scored, now=now)
            return
        rows = [
            {
                "rule_id": rule_id,
                "rule_version": version,
                "month": month,
                "person_id": s.assessment.person_id,
                "candidate": s.assessment.candidate,
                "total": s.assessment.total,
                "subscores": s.assessment.subscores,
                "explanation": s.assessment.explanation,
                "household_id": s.household_id,
                "school_code": s.school_code,
                "grade": s.grade,
                "age": s.age,
                "computed_at": now,
            }
            for s in scored
        ]
        for start in range(0, len(rows), CHUNK):
            await self._session.execute(insert(a), rows[start : start + CHUNK])

    async def _copy(self, *, rule_id: str, version: int, month: str, scored: Sequence[Scored], now: datetime) -> None:
        # A full re-score writes hundreds of thousands of rows: COPY, in the session's own transaction, is several
        # times faster than INSERT.
        connection = await self._session.connection()
        raw = await connection.get_raw_connection()
        records = [
            (
                rule_id,
                version,
                month,
                s.assessment.person_id,
                s.assessment.candidate,
                s.assessment.total,
                json.dumps(s.assessment.subscores),
                json.dumps(s.assessment.explanation, ensure_ascii=False),
                s.household_id,
                s.school_code,
                s.grade,
                s.age,
                now,
            )
            for s in scored
        ]
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            self._a.name, records=records, columns=[c.name for c in self._a.columns]
        )

    async def remove(self, *, rule_id: str, version: int, month: str, person_ids: Iterable[str]) -> None:
        """Forget the assessments of children no longer scored (left the roll, moved away)."""
        a = self._a
        ids = list(person_ids)
        for start in range(0, len(ids), CHUNK):
            await self._session.execute(
                delete(a).where(
                    and_(
                        a.c.rule_id == rule_id,
                        a.c.rule_version == version,
                        a.c.month == month,
                        a.c.person_id.in_(ids[start : start + CHUNK]),
                    )
                )
            )

    async def clear_month(self, *, rule_id: str, version: int, month: str) -> None:
        """Forget one month's assessments of a version (before a full re-score)."""
        a = self._a
        await self._session.execute(
            delete(a).where(and_(a.c.rule_id == rule_id, a.c.rule_version == version, a.c.month == month))
        )

    async def previous(
        self, *, rule_id: str, month: str, person_ids: Sequence[str]
    ) -> dict[str, tuple[int, int | None, bool]]:
        """Per child, the latest stored (version, total, candidate) for the month, else for an earlier month."""
        a = self._a
        found: dict[str, tuple[str, int, int | None, bool]] = {}
        for start in range(0, len(person_ids), CHUNK):
            rows = await self._session.execute(
                select(a.c.person_id, a.c.month, a.c.rule_version, a.c.total, a.c.candidate).where(
                    and_(
                        a.c.rule_id == rule_id, a.c.month <= month, a.c.person_id.in_(person_ids[start : start + CHUNK])
                    )
                )
            )
            for row in rows:
                key = (row.month, int(row.rule_version))
                best = found.get(row.person_id)
                if best is None or key > (best[0], best[1]):
                    found[row.person_id] = (row.month, int(row.rule_version), row.total, bool(row.candidate))
        return {pid: (v, total, cand) for pid, (_, v, total, cand) in found.items()}

    async def any_for_month(self, month: str) -> bool:
        """Whether any child was scored for the month (by any rule)."""
        a = self._a
        row = (await self._session.execute(select(a.c.person_id).where(a.c.month == month).limit(1))).first()
        return row is not None

    async def scored_ids(self, *, rule_id: str, version: int, month: str) -> set[str]:
        """The children with a stored assessment."""
        a = self._a
        rows = await self._session.execute(
            select(a.c.person_id).where(and_(a.c.rule_id == rule_id, a.c.rule_version == version, a.c.month == month))
        )
        return {row.person_id for row in rows}

    async def of_month(
        self,
        *,
        rule_id: str,
        version: int,
        month: str,
        person_id: str | None = None,
        candidates_only: bool = False,
    ) -> list[StoredAssessment]:
        """Assessments of a month (filters on the list are applied by the caller)."""
        a = self._a
        query = select(a).where(and_(a.c.rule_id == rule_id, a.c.rule_version == version, a.c.month == month))
        if person_id is not None:
            query = query.where(a.c.person_id == person_id)
        if candidates_only:
            query = query.where(a.c.candidate.is_(True))
        return [_assessment(row) for row in await self._session.execute(query.order_by(a.c.person_id))]

    async def history(self, person_id: str, *, versions: dict[str, int]) -> list[StoredAssessment]:
        """A child's assessments under each rule's adopted version, over every month."""
        a = self._a
        if not versions:
            return []
        query = select(a).where(
            and_(a.c.person_id == person_id, tuple_(a.c.rule_id, a.c.rule_version).in_(list(versions.items())))
        )
        return [_assessment(row) for row in await self._session.execute(query.order_by(a.c.rule_id, a.c.month))]

    async def add_alerts(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append to the alert feed, in order."""
        if not rows:
            return
        seq = (await self._session.execute(select(func.coalesce(func.max(self._alerts.c.seq), 0)))).scalar_one()
        numbered = [{**row, "seq": int(seq) + 1 + i} for i, row in enumerate(rows)]
        for start in range(0, len(numbered), CHUNK):
            await self._session.execute(insert(self._alerts), numbered[start : start + CHUNK])

    async def any_before(self, *, rule_id: str, month: str) -> bool:
        """Whether the rule scored any month before this one (else this is its first month: no alerts)."""
        a = self._a
        row = (
            await self._session.execute(
                select(a.c.person_id).where(and_(a.c.rule_id == rule_id, a.c.month < month)).limit(1)
            )
        ).first()
        return row is not None

    async def remove_stale(self, *, rule_id: str, version: int, month: str, before: datetime) -> int:
        """Forget the assessments a full re-score that started at `before` did not rewrite (children gone)."""
        a = self._a
        result = await self._session.execute(
            delete(a).where(
                and_(a.c.rule_id == rule_id, a.c.rule_version == version, a.c.month == month, a.c.computed_at < before)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def alerts(self, *, after: int, limit: int, rule_id: str | None = None) -> list[Any]:
        """The alert feed after a sequence number."""
        t = self._alerts
        query = select(t).where(t.c.seq > after).order_by(t.c.seq).limit(limit)
        if rule_id is not None:
            query = query.where(t.c.rule_id == rule_id)
        return list((await self._session.execute(query)).all())


def _assessment(row: Any) -> StoredAssessment:
    return StoredAssessment(
        rule_id=row.rule_id,
        rule_version=int(row.rule_version),
        month=row.month,
        person_id=row.person_id,
        candidate=bool(row.candidate),
        total=row.total,
        subscores=dict(row.subscores),
        explanation=dict(row.explanation),
        household_id=row.household_id,
        school_code=row.school_code,
        grade=row.grade,
        age=row.age,
    )


def assessment_of(stored: StoredAssessment) -> Assessment:
    """The domain assessment of a stored row."""
    return Assessment(
        rule_id=stored.rule_id,
        rule_version=stored.rule_version,
        month=stored.month,
        person_id=stored.person_id,
        candidate=stored.candidate,
        total=stored.total,
        subscores=stored.subscores,
        explanation=stored.explanation,
    )
