"""Repositories of casework over SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import String, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.casework.adapters.aliases import person_group
from mimamori.casework.domain.model import Observation, ObservationCategory
from mimamori.kit.db import Prebuilt

Rows = Callable[[Prebuilt, Mapping[str, Any]], Awaitable[Sequence[Any]]]


class ObservationRepository:
    """見守り情報 rows."""

    def __init__(self, session: AsyncSession, table: Table, *, known: Table, aliases: Table, rows: Rows) -> None:
        self._session = session
        self._t = table
        self._known = known
        self._aliases = aliases
        self._rows = rows

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

    async def page_if_known(self, person_id: str, *, limit: int, offset: int) -> list[Observation] | None:
        """A known person's observations (with those recorded under ids identity merged into them), newest first,
        or None when the person is not known: one round trip (a second only for an empty page past the first,
        where the join cannot tell)."""
        page = {"person_id": person_id, "limit": limit, "offset": offset}
        rows = await self._rows(_known_page(self._t, self._known, self._aliases), page)
        if not rows:
            if offset == 0 or not await KnownPersonRepository(self._session, self._known).exists(person_id):
                return None
            return []
        return [_observation(r) for r in rows if r["id"] is not None]


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


def _observation(row: Any) -> Observation:
    return Observation(
        id=row["id"],
        person_id=row["person_id"],
        category=ObservationCategory(row["category"]),
        text=row["text"],
        observed_on=row["observed_on"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
    )


@cache
def _known_page(observations: Table, known: Table, aliases: Table) -> Prebuilt:
    """The person (one row of NULLs when known without observations) joined with a page of their observations,
    merges followed (one IN over `person_aliases`); built and compiled once."""
    o = observations
    person = bindparam("person_id", type_=String(36))
    return Prebuilt(
        select(o)
        .select_from(known.outerjoin(o, o.c.person_id.in_(person_group(aliases, person))))
        .where(known.c.person_id == person)
        .order_by(o.c.observed_on.desc(), o.c.recorded_at.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
