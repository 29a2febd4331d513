"""The case statuses risk keeps from casework's events (one row per case, the newest version)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.risk.domain.cases import OPEN_STATUSES, CaseStatus, open_cases


class CaseStatusRepository:
    """`case_statuses`, read through `person_aliases` (merges) for the candidate list."""

    def __init__(self, session: AsyncSession, *, cases: Table, aliases: Table) -> None:
        self._session = session
        self._t = cases
        self._aliases = aliases

    async def apply(self, announced: Sequence[CaseStatus]) -> int:
        """Keep each case's newest announcement; older or repeated ones change nothing. Returns how many changed."""
        if not announced:
            return 0
        t = self._t
        ids = sorted({c.case_id for c in announced})
        stored = {
            r.case_id: r.version
            for r in await self._session.execute(select(t.c.case_id, t.c.version).where(t.c.case_id.in_(ids)))
        }
        changed = 0
        now = datetime.now(UTC)
        for case in announced:
            if not case.replaces(stored.get(case.case_id)):
                continue
            values = {"person_id": case.person_id, "status": case.status, "version": case.version, "updated_at": now}
            if case.case_id in stored:
                await self._session.execute(update(t).where(t.c.case_id == case.case_id).values(**values))
            else:
                await self._session.execute(insert(t).values(case_id=case.case_id, **values))
            stored[case.case_id] = case.version
            changed += 1
        return changed

    async def open_by_person(self) -> dict[str, str]:
        """Person (after merges) → the status of their open case."""
        t, a = self._t, self._aliases
        rows = await self._session.execute(
            select(t.c.case_id, t.c.person_id, t.c.status, t.c.version).where(t.c.status.in_(OPEN_STATUSES))
        )
        cases = [CaseStatus(r.case_id, r.person_id, r.status, r.version) for r in rows]
        if not cases:
            return {}
        persons = sorted({c.person_id for c in cases})
        aliases = {
            r.merged_person_id: r.surviving_person_id
            for r in await self._session.execute(select(a).where(a.c.merged_person_id.in_(persons)))
        }
        return open_cases(cases, aliases=aliases)
