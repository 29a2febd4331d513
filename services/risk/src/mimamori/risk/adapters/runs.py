"""Re-score runs over SQLAlchemy Core: a full re-score as a job that any risk process may claim, with its
progress (a cursor over household ids), committed chunk by chunk."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class RescoreRun:
    """One full re-score of a month (every adopted rule, or the versions named)."""

    run_id: str
    month: str
    rules: tuple[tuple[str, int], ...]
    reason: str
    status: str
    cursor: str
    households_total: int
    households_done: int
    children: int
    alerts: int
    baseline: tuple[str, ...]
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str

    @property
    def progress(self) -> float:
        """The share of households scored (1.0 when done)."""
        if self.status == DONE:
            return 1.0
        return min(1.0, self.households_done / self.households_total) if self.households_total else 0.0


class RunRepository:
    """Re-score runs: scheduled by consumers and routes, claimed and advanced by a worker."""

    def __init__(self, session: AsyncSession, *, table: Table) -> None:
        self._session = session
        self._t = table

    async def schedule(self, *, month: str, rules: list[tuple[str, int]], reason: str) -> str:
        """A pending run of the month for these rules; a pending one of the same scope is reused and its
        request time moved on, so a month's load that arrives in many batches starts one run once it settles."""
        t = self._t
        scope = [list(r) for r in sorted(rules)]
        now = datetime.now(UTC)
        rows = await self._session.execute(
            select(t.c.run_id, t.c.rules).where(and_(t.c.month == month, t.c.status == PENDING)).with_for_update()
        )
        for row in rows:
            if sorted(list(r) for r in row.rules) == scope:
                await self._session.execute(update(t).where(t.c.run_id == row.run_id).values(requested_at=now))
                return str(row.run_id)
        run_id = str(uuid.uuid4())
        await self._session.execute(
            insert(t).values(
                run_id=run_id,
                month=month,
                rules=scope,
                reason=reason,
                status=PENDING,
                cursor="",
                households_total=0,
                households_done=0,
                children=0,
                alerts=0,
                baseline=[],
                requested_at=now,
                error="",
            )
        )
        return run_id

    async def pending_full(self, month: str) -> bool:
        """Whether a pending run of every adopted rule will score the month (so touched children need not be
        scored now); the row stays locked until the caller commits, so no worker starts it in between."""
        t = self._t
        rows = await self._session.execute(
            select(t.c.rules).where(and_(t.c.month == month, t.c.status == PENDING)).with_for_update()
        )
        return any(not row.rules for row in rows)

    async def months(self) -> set[str]:
        """Every month a run was ever scheduled for: each month scored has had one (its first full re-score)."""
        t = self._t
        return set((await self._session.execute(select(t.c.month).distinct())).scalars())

    async def ever(self, month: str) -> bool:
        """Whether any run of the month was ever scheduled."""
        t = self._t
        return (await self._session.execute(select(t.c.run_id).where(t.c.month == month).limit(1))).first() is not None

    async def claimable(self, *, settle: timedelta) -> list[str]:
        """Runs a worker may take: pending and settled, or running with an expired lease (its worker died)."""
        t = self._t
        now = datetime.now(UTC)
        rows = await self._session.execute(
            select(t.c.run_id)
            .where(
                or_(
                    and_(t.c.status == PENDING, t.c.requested_at <= now - settle),
                    and_(t.c.status == RUNNING, t.c.lease_until < now),
                )
            )
            .order_by(t.c.requested_at)
        )
        return [str(row.run_id) for row in rows]

    async def claim(self, run_id: str, *, settle: timedelta, lease: timedelta, households: int) -> bool:
        """Take a run (exactly one worker wins); a resumed run keeps its cursor and start time."""
        t = self._t
        now = datetime.now(UTC)
        claimable = or_(
            and_(t.c.status == PENDING, t.c.requested_at <= now - settle),
            and_(t.c.status == RUNNING, t.c.lease_until < now),
        )
        result = await self._session.execute(
            update(t)
            .where(and_(t.c.run_id == run_id, claimable))
            .values(
                status=RUNNING,
                lease_until=now + lease,
                started_at=func.coalesce(t.c.started_at, now),
                households_total=households,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, run_id: str) -> RescoreRun | None:
        """One run."""
        row = (await self._session.execute(select(self._t).where(self._t.c.run_id == run_id))).first()
        return _run(row) if row is not None else None

    async def recent(self, *, limit: int) -> list[RescoreRun]:
        """The latest runs, newest first."""
        t = self._t
        rows = await self._session.execute(select(t).order_by(t.c.requested_at.desc()).limit(limit))
        return [_run(row) for row in rows]

    async def unfinished(self) -> int:
        """Runs pending or running."""
        t = self._t
        value = await self._session.execute(select(func.count()).where(t.c.status.in_((PENDING, RUNNING))))
        return int(value.scalar_one())

    async def set_baseline(self, run_id: str, rule_ids: list[str]) -> None:
        """The rules for which this is the first month ever scored (no alerts: alerts are about changes)."""
        await self._session.execute(update(self._t).where(self._t.c.run_id == run_id).values(baseline=rule_ids))

    async def advance(
        self, run: RescoreRun, *, cursor: str, households: int, children: int, alerts: int, lease: timedelta
    ) -> bool:
        """Record a scored chunk; False when another worker moved the run on meanwhile (then roll back)."""
        t = self._t
        result = await self._session.execute(
            update(t)
            .where(and_(t.c.run_id == run.run_id, t.c.status == RUNNING, t.c.cursor == run.cursor))
            .values(
                cursor=cursor,
                households_done=t.c.households_done + households,
                children=t.c.children + children,
                alerts=t.c.alerts + alerts,
                lease_until=datetime.now(UTC) + lease,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, run_id: str) -> None:
        """Give a running run up (the process stops): the next worker resumes it at once from its cursor."""
        t = self._t
        await self._session.execute(
            update(t)
            .where(and_(t.c.run_id == run_id, t.c.status == RUNNING))
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )

    async def finish(self, run_id: str, *, status: str = DONE, error: str = "") -> None:
        """Mark a run done (or failed, with a reason that holds no personal data)."""
        await self._session.execute(
            update(self._t)
            .where(self._t.c.run_id == run_id)
            .values(status=status, finished_at=datetime.now(UTC), lease_until=None, error=error[:200])
        )


def _run(row: Any) -> RescoreRun:
    requested = row.requested_at
    assert requested is not None
    return RescoreRun(
        run_id=row.run_id,
        month=row.month,
        rules=tuple((str(r[0]), int(r[1])) for r in row.rules),
        reason=row.reason,
        status=row.status,
        cursor=row.cursor,
        households_total=int(row.households_total),
        households_done=int(row.households_done),
        children=int(row.children),
        alerts=int(row.alerts),
        baseline=tuple(row.baseline),
        requested_at=requested,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
    )
