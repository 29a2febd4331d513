"""Repositories of casework over SQLAlchemy Core."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.casework.domain.model import Observation, ObservationCategory


class ObservationRepository:
    """見守り情報 rows."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def add(self, observation: Observation) -> None:
        """Store a new observation."""
        await self._session.execute(
            insert(self._t).values(
                id=observation.id,
                person_id=observation.person_id,
                category=observation.category.value,
                text=observation.text,
                observed_on=observation.observed_on,
                recorded_by=observation.recorded_by,
                recorded_at=observation.recorded_at,
            )
        )

    async def for_person(self, person_id: str, *, limit: int, offset: int) -> list[Observation]:
        """A person's observations, newest first."""
        t = self._t
        rows = await self._session.execute(
            select(t)
            .where(t.c.person_id == person_id)
            .order_by(t.c.observed_on.desc(), t.c.recorded_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return [
            Observation(
                id=r.id,
                person_id=r.person_id,
                category=ObservationCategory(r.category),
                text=r.text,
                observed_on=r.observed_on,
                recorded_by=r.recorded_by,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]


class KnownPersonRepository:
    """The persons identity told us about (a read model fed by identity's events)."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def exists(self, person_id: str) -> bool:
        """Whether identity has announced this person."""
        found = await self._session.execute(select(self._t.c.person_id).where(self._t.c.person_id == person_id))
        return found.first() is not None

    async def upsert(self, person_id: str, *, resident: bool) -> None:
        """Remember a person (or update whether they are resident)."""
        now = datetime.now(UTC)
        updated = await self._session.execute(
            update(self._t).where(self._t.c.person_id == person_id).values(resident=resident, updated_at=now)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            await self._session.execute(insert(self._t).values(person_id=person_id, resident=resident, updated_at=now))
