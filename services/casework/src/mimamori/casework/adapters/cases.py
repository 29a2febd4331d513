"""The case repository over SQLAlchemy Core: cases, their assignees and their status history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.casework.adapters.aliases import AliasRepository
from mimamori.casework.domain.aliases import duplicate_open
from mimamori.casework.domain.case import (
    TERMINAL,
    Case,
    CaseStatus,
    DeclineReason,
    Difficulty,
    Origin,
    StatusChange,
)


class CaseAlreadyOpen(Exception):
    """The person has an open case already (the database's partial unique index said so)."""


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a list shows; `assignee` limits it to the cases of one staff member."""

    person_id: str | None = None
    status: CaseStatus | None = None
    open_only: bool = False
    assignee: str | None = None


class CaseRepository:
    """Cases, whole: a case row, its assignees in order, its history in order."""

    def __init__(
        self, session: AsyncSession, *, cases: Table, assignees: Table, history: Table, aliases: AliasRepository
    ) -> None:
        self._session = session
        self._c = cases
        self._a = assignees
        self._h = history
        self._aliases = aliases

    async def add(self, case: Case) -> None:
        """Store a new case; CaseAlreadyOpen when the person has an open one (the transaction is then spoiled: the
        caller checks `open_case_of` first, so this is only the race of two staff opening at once)."""
        try:
            await self._session.execute(insert(self._c).values(**_row(case)))
        except IntegrityError as exc:
            raise CaseAlreadyOpen(case.person_id) from exc
        await self._write_assignees(case)
        await self._append_history(case, stored=0)

    async def save(self, case: Case, *, expected_version: int, stored_history: int) -> bool:
        """Write a changed case if nobody changed it since it was read at `expected_version`; False otherwise."""
        values = _row(case)
        del values["id"]
        changed = await self._session.execute(
            update(self._c).where(self._c.c.id == case.id, self._c.c.version == expected_version).values(**values)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self._session.execute(delete(self._a).where(self._a.c.case_id == case.id))
        await self._write_assignees(case)
        await self._append_history(case, stored=stored_history)
        return True

    async def get(self, case_id: str) -> Case | None:
        """One case with its assignees and history."""
        row = (await self._session.execute(select(self._c).where(self._c.c.id == case_id))).first()
        if row is None:
            return None
        return (await self._whole([row]))[0]

    async def open_case_of(self, person_id: str) -> str | None:
        """The id of the person's open case, if any, merges followed (a case of an id merged into them, or of the
        person they were merged into, counts)."""
        c = self._c
        found = await self._session.execute(
            select(c.c.id)
            .where(
                c.c.person_id.in_(self._aliases.group(person_id)),
                c.c.status.not_in([s.value for s in TERMINAL]),
            )
            .order_by(c.c.opened_at, c.c.id)
        )
        return found.scalars().first()

    async def duplicate_open(self, cases: Sequence[Case]) -> set[str]:
        """Which of these cases are open while their person, merges followed, has another open case. Costs one
        look at `person_aliases` when no merge concerns them (one id holds one open case: the unique index)."""
        persons = {case.person_id for case in cases if case.status not in TERMINAL}
        roots = await self._aliases.roots(persons)
        if not roots:
            return set()
        c = self._c
        group = persons | set(roots) | set(roots.values())
        rows = await self._session.execute(
            select(c.c.id, c.c.person_id).where(
                c.c.person_id.in_(sorted(group)), c.c.status.not_in([s.value for s in TERMINAL])
            )
        )
        flagged = duplicate_open([(r.id, r.person_id) for r in rows], roots=roots)
        return {case.id for case in cases if case.id in flagged}

    async def page(self, chosen: CaseFilter, *, limit: int, offset: int) -> tuple[int, list[Case]]:
        """The total and one page of cases, newest first."""
        where = self._where(chosen)
        total = await self._session.scalar(select(func.count()).select_from(self._c).where(where))
        rows = (
            await self._session.execute(
                select(self._c)
                .where(where)
                .order_by(self._c.c.opened_at.desc(), self._c.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return int(total or 0), await self._whole(rows)

    def _where(self, chosen: CaseFilter) -> ColumnElement[bool]:
        c = self._c
        clauses: list[ColumnElement[bool]] = [true()]
        if chosen.person_id is not None:
            clauses.append(c.c.person_id.in_(self._aliases.group(chosen.person_id)))
        if chosen.status is not None:
            clauses.append(c.c.status == chosen.status.value)
        if chosen.open_only:
            clauses.append(c.c.status.not_in([s.value for s in TERMINAL]))
        if chosen.assignee is not None:
            a = self._a
            clauses.append(exists().where(a.c.case_id == c.c.id, a.c.subject == chosen.assignee))
        return and_(*clauses)

    async def _whole(self, rows: Sequence[Any]) -> list[Case]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        assignees: dict[str, list[str]] = defaultdict(list)
        for a in await self._session.execute(
            select(self._a).where(self._a.c.case_id.in_(ids)).order_by(self._a.c.case_id, self._a.c.position)
        ):
            assignees[a.case_id].append(a.subject)
        history: dict[str, list[StatusChange]] = defaultdict(list)
        for h in await self._session.execute(
            select(self._h).where(self._h.c.case_id.in_(ids)).order_by(self._h.c.case_id, self._h.c.seq)
        ):
            history[h.case_id].append(
                StatusChange(
                    from_status=CaseStatus(h.from_status) if h.from_status else None,
                    to_status=CaseStatus(h.to_status),
                    by=h.changed_by,
                    at=h.changed_at,
                    note=h.note,
                )
            )
        return [_case(r, assignees=assignees[r.id], history=history[r.id]) for r in rows]

    async def _write_assignees(self, case: Case) -> None:
        if case.assignees:
            await self._session.execute(
                insert(self._a),
                [{"case_id": case.id, "subject": s, "position": i} for i, s in enumerate(case.assignees)],
            )

    async def _append_history(self, case: Case, *, stored: int) -> None:
        fresh = case.history[stored:]
        if fresh:
            await self._session.execute(
                insert(self._h),
                [
                    {
                        "case_id": case.id,
                        "seq": stored + i + 1,
                        "from_status": h.from_status.value if h.from_status else None,
                        "to_status": h.to_status.value,
                        "changed_by": h.by,
                        "changed_at": h.at,
                        "note": h.note,
                    }
                    for i, h in enumerate(fresh)
                ],
            )


def _row(case: Case) -> dict[str, Any]:
    origin = case.origin
    return {
        "id": case.id,
        "person_id": case.person_id,
        "difficulties": [d.value for d in case.difficulties],
        "status": case.status.value,
        "risk_level": case.risk_level,
        "decline_reason": case.decline_reason.value if case.decline_reason else None,
        "origin_rule_id": origin.rule_id if origin else None,
        "origin_rule_version": origin.rule_version if origin else None,
        "origin_month": origin.month if origin else None,
        "origin_alert_id": origin.alert_id if origin else None,
        "opened_by": case.opened_by,
        "opened_at": case.opened_at,
        "updated_at": datetime.now(UTC),
        "version": case.version,
    }


def _case(row: Any, *, assignees: list[str], history: list[StatusChange]) -> Case:
    origin = None
    if row.origin_rule_id is not None:
        origin = Origin(
            rule_id=row.origin_rule_id,
            rule_version=row.origin_rule_version,
            month=row.origin_month,
            alert_id=row.origin_alert_id or "",
        )
    return Case(
        id=row.id,
        person_id=row.person_id,
        difficulties=tuple(Difficulty(d) for d in row.difficulties),
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        origin=origin,
        status=CaseStatus(row.status),
        risk_level=row.risk_level,
        assignees=tuple(assignees),
        decline_reason=DeclineReason(row.decline_reason) if row.decline_reason else None,
        history=history,
        version=row.version,
    )
