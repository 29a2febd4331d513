"""The household read model over SQLAlchemy Core."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.risk.domain.household import BirthDate, Household, Member


class HouseholdRepository:
    """Households and their members, each replaced whole by identity's latest announcement."""

    def __init__(self, session: AsyncSession, *, households: Table, members: Table) -> None:
        self._session = session
        self._h = households
        self._m = members
        self._announced: dict[str, datetime] = {}

    async def version_of(self, household_id: str) -> int | None:
        """The stored version of a household, or None when it was never announced."""
        found = await self._session.execute(select(self._h.c.version).where(self._h.c.household_id == household_id))
        version = found.scalar_one_or_none()
        return int(version) if version is not None else None

    async def replace(self, household: Household, *, announced_at: datetime) -> None:
        """Store a household's full membership in place of what was stored."""
        now = datetime.now(UTC)
        values = {
            "setai_code": household.setai_code,
            "version": household.version,
            "announced_at": announced_at.astimezone(UTC),
            "updated_at": now,
        }
        updated = await self._session.execute(
            update(self._h).where(self._h.c.household_id == household.household_id).values(**values)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            await self._session.execute(insert(self._h).values(household_id=household.household_id, **values))
        await self._session.execute(delete(self._m).where(self._m.c.household_id == household.household_id))
        if household.members:
            await self._session.execute(
                insert(self._m),
                [
                    {
                        "household_id": household.household_id,
                        "person_id": m.person_id,
                        "zokugara": m.zokugara,
                        "birth_date": m.birth_date.raw,
                        "sex": m.sex,
                        "resident": m.resident,
                        "dv_support": m.dv_support,
                    }
                    for m in household.members
                ],
            )

    async def get(self, household_id: str) -> Household | None:
        """One household with its members."""
        found = await self._load([household_id])
        return found[0] if found else None

    async def containing(self, person_id: str) -> list[Household]:
        """The households that list a person, most recently announced first.

        Identity announces both households of a move; when they arrive out of order the person is briefly
        in both, and the later announcement is the current one."""
        ids = await self._session.execute(select(self._m.c.household_id).where(self._m.c.person_id == person_id))
        return await self._load([row.household_id for row in ids])

    async def containing_any(self, person_ids: set[str]) -> list[Household]:
        """The households that list any of the persons, most recently announced first."""
        ids: set[str] = set()
        wanted = sorted(person_ids)
        for start in range(0, len(wanted), 500):
            rows = await self._session.execute(
                select(self._m.c.household_id).where(self._m.c.person_id.in_(wanted[start : start + 500]))
            )
            ids.update(row.household_id for row in rows)
        return await self._load(sorted(ids))

    async def all(self) -> list[Household]:
        """Every household, most recently announced first."""
        rows = await self._session.execute(select(self._h.c.household_id))
        return await self._load([row.household_id for row in rows])

    async def ids_after(self, after: str, *, limit: int) -> list[str]:
        """The next household ids in order (a full re-score walks them chunk by chunk)."""
        h = self._h
        rows = await self._session.execute(
            select(h.c.household_id).where(h.c.household_id > after).order_by(h.c.household_id).limit(limit)
        )
        return [row.household_id for row in rows]

    async def count(self) -> int:
        """How many households are stored."""
        return int((await self._session.execute(select(func.count()).select_from(self._h))).scalar_one())

    async def in_range(self, *, after: str, upto: str) -> tuple[list[Household], set[str]]:
        """The households with ids in (after, upto], plus every other household listing one of their members
        (a person briefly in two decides their home by the later announcement); most recent first. Also the
        ids of the households in the range."""
        h, m = self._h, self._m
        in_range = and_(m.c.household_id > after, m.c.household_id <= upto)
        inner = m.alias("inner_members")
        members_in_range = select(inner.c.person_id).where(
            and_(inner.c.household_id > after, inner.c.household_id <= upto)
        )
        others = await self._session.execute(
            select(m.c.household_id).distinct().where(and_(m.c.person_id.in_(members_in_range), not_(in_range)))
        )
        heads = list(
            await self._session.execute(select(h).where(and_(h.c.household_id > after, h.c.household_id <= upto)))
        )
        members: dict[str, list[Member]] = defaultdict(list)
        rows = await self._session.execute(select(m).where(in_range).order_by(m.c.household_id, m.c.person_id))
        for row in rows:
            members[row.household_id].append(_member(row))
        chunk = {head.household_id for head in heads}
        households = self._build(heads, members)
        other_ids = sorted({row.household_id for row in others} - chunk)
        households.extend(await self._load(other_ids))
        households.sort(key=lambda x: x.household_id)
        households.sort(key=lambda x: self._announced[x.household_id], reverse=True)
        return households, chunk

    async def _load(self, household_ids: list[str]) -> list[Household]:
        if not household_ids:
            return []
        h, m = self._h, self._m
        heads: list[Any] = []
        members: dict[str, list[Member]] = defaultdict(list)
        for start in range(0, len(household_ids), 500):
            chunk = household_ids[start : start + 500]
            heads.extend((await self._session.execute(select(h).where(h.c.household_id.in_(chunk)))).all())
            rows = await self._session.execute(
                select(m).where(m.c.household_id.in_(chunk)).order_by(m.c.household_id, m.c.person_id)
            )
            for row in rows:
                members[row.household_id].append(_member(row))
        households = self._build(heads, members)
        households.sort(key=lambda x: x.household_id)
        households.sort(key=lambda x: self._announced[x.household_id], reverse=True)
        return households

    def _build(self, heads: list[Any], members: dict[str, list[Member]]) -> list[Household]:
        for head in heads:
            self._announced[head.household_id] = _aware(head.announced_at)
        return [
            Household(
                household_id=head.household_id,
                setai_code=head.setai_code,
                version=int(head.version),
                members=tuple(members[head.household_id]),
            )
            for head in heads
        ]


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _member(row: Any) -> Member:
    return Member(
        person_id=row.person_id,
        zokugara=row.zokugara,
        birth_date=BirthDate.parse(row.birth_date),
        sex=row.sex,
        resident=bool(row.resident),
        dv_support=bool(row.dv_support),
    )
