"""The household read model over SQLAlchemy Core."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, not_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.risk.domain.household import BirthDate, Household, Member, Timeline


class HouseholdRepository:
    """Households and their members by month: the latest snapshot of each in `households` /
    `household_members`, earlier ones in `household_history` / `household_history_members`. A read for a month
    gives each household as it was then (the snapshot with the latest month_from at or before it)."""

    def __init__(
        self, session: AsyncSession, *, households: Table, members: Table, history: Table, history_members: Table
    ) -> None:
        self._session = session
        self._h = households
        self._m = members
        self._hh = history
        self._hm = history_members
        self._announced: dict[str, datetime] = {}

    async def timeline(self, household_id: str) -> Timeline:
        """The month_from and version of each stored snapshot of a household."""
        h, hh = self._h, self._hh
        latest = (
            await self._session.execute(select(h.c.month_from, h.c.version).where(h.c.household_id == household_id))
        ).first()
        past = await self._session.execute(
            select(hh.c.month_from, hh.c.version).where(hh.c.household_id == household_id)
        )
        return Timeline(
            current=(latest.month_from, int(latest.version)) if latest is not None else None,
            past={row.month_from: int(row.version) for row in past},
        )

    async def persons_ever(self, household_id: str) -> set[str]:
        """Everyone any stored snapshot of the household lists."""
        found = await self._session.execute(
            select(self._m.c.person_id)
            .where(self._m.c.household_id == household_id)
            .union(select(self._hm.c.person_id).where(self._hm.c.household_id == household_id))
        )
        return set(found.scalars())

    async def replace(self, household: Household, *, announced_at: datetime) -> None:
        """Store a household's full membership in place of its latest snapshot."""
        now = datetime.now(UTC)
        values = {
            "setai_code": household.setai_code,
            "version": household.version,
            "announced_at": announced_at.astimezone(UTC),
            "updated_at": now,
            "month_from": household.month_from,
        }
        updated = await self._session.execute(
            update(self._h).where(self._h.c.household_id == household.household_id).values(**values)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            await self._session.execute(insert(self._h).values(household_id=household.household_id, **values))
        await self._session.execute(delete(self._m).where(self._m.c.household_id == household.household_id))
        await self._insert_members(self._m, household, month_from=None)

    async def supersede(self, household: Household, *, announced_at: datetime) -> None:
        """A snapshot of a later month: the latest one is kept as history, the new one becomes the latest."""
        h, m, hh, hm = self._h, self._m, self._hh, self._hm
        hid = household.household_id
        await self._session.execute(
            insert(hh).from_select(
                ["household_id", "month_from", "setai_code", "version", "announced_at"],
                select(h.c.household_id, h.c.month_from, h.c.setai_code, h.c.version, h.c.announced_at).where(
                    h.c.household_id == hid
                ),
            )
        )
        columns = ["zokugara", "birth_date", "sex", "resident", "dv_support"]
        await self._session.execute(
            insert(hm).from_select(
                ["household_id", "month_from", "person_id", *columns],
                select(m.c.household_id, h.c.month_from, m.c.person_id, *(m.c[c] for c in columns))
                .join(h, h.c.household_id == m.c.household_id)
                .where(m.c.household_id == hid),
            )
        )
        await self.replace(household, announced_at=announced_at)

    async def keep_past(self, household: Household, *, announced_at: datetime) -> None:
        """Store (or replace) the snapshot of a month before the latest one's."""
        hh, hm = self._hh, self._hm
        key = and_(hh.c.household_id == household.household_id, hh.c.month_from == household.month_from)
        await self._session.execute(delete(hh).where(key))
        await self._session.execute(
            delete(hm).where(hm.c.household_id == household.household_id, hm.c.month_from == household.month_from)
        )
        await self._session.execute(
            insert(hh).values(
                household_id=household.household_id,
                month_from=household.month_from,
                setai_code=household.setai_code,
                version=household.version,
                announced_at=announced_at.astimezone(UTC),
            )
        )
        await self._insert_members(hm, household, month_from=household.month_from)

    async def reset(self, household: Household, *, announced_at: datetime) -> None:
        """An announcement without a month: it replaces every snapshot and holds for every month."""
        hid = household.household_id
        await self._session.execute(delete(self._hh).where(self._hh.c.household_id == hid))
        await self._session.execute(delete(self._hm).where(self._hm.c.household_id == hid))
        await self.replace(household, announced_at=announced_at)

    async def _insert_members(self, table: Table, household: Household, *, month_from: str | None) -> None:
        if not household.members:
            return
        extra = {} if month_from is None else {"month_from": month_from}
        await self._session.execute(
            insert(table),
            [
                {
                    "household_id": household.household_id,
                    "person_id": m.person_id,
                    "zokugara": m.zokugara,
                    "birth_date": m.birth_date.raw,
                    "sex": m.sex,
                    "resident": m.resident,
                    "dv_support": m.dv_support,
                    **extra,
                }
                for m in household.members
            ],
        )

    async def get(self, household_id: str, *, month: str | None = None) -> Household | None:
        """One household with its members (as of the month when given: None when not announced by then)."""
        found = await self._load([household_id], month=month)
        return found[0] if found else None

    async def containing(self, person_id: str, *, month: str | None = None) -> list[Household]:
        """The households that list a person (latest snapshots, or as of the month), the one announced for the
        latest month first, then the one announced last.

        Identity announces both households of a move; when they arrive out of order the person is briefly
        in both, and the later announcement is the current one."""
        return await self.containing_any({person_id}, month=month)

    async def containing_any(self, person_ids: set[str], *, month: str | None = None) -> list[Household]:
        """The households that list any of the persons (latest snapshots, or as of the month; any snapshot of
        theirs may list them then), most recent first."""
        ids: set[str] = set()
        wanted = sorted(person_ids)
        tables = (self._m,) if month is None else (self._m, self._hm)
        for start in range(0, len(wanted), 500):
            for table in tables:
                rows = await self._session.execute(
                    select(table.c.household_id).where(table.c.person_id.in_(wanted[start : start + 500]))
                )
                ids.update(row.household_id for row in rows)
        found = await self._load(sorted(ids), month=month)
        if month is None:
            return found
        return [h for h in found if any(m.person_id in person_ids for m in h.members)]

    async def all(self, *, month: str | None = None) -> list[Household]:
        """Every household (as of the month when given), most recently announced first."""
        rows = await self._session.execute(select(self._h.c.household_id))
        return await self._load([row.household_id for row in rows], month=month)

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

    async def in_range(self, *, after: str, upto: str, month: str) -> tuple[list[Household], set[str], set[str]]:
        """The households with ids in (after, upto] as of the month, plus every other household that may list one
        of their members then (a person briefly in two decides their home by the later announcement); most recent
        first. Also the ids of the households in the range, and the persons that those served from history (their
        latest snapshot is of a later month) list then but no longer."""
        h, m, hm = self._h, self._m, self._hm
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
        latest = {head.household_id: head.month_from for head in heads}
        households = await self._as_of(heads, members, month=month)
        # Members of an earlier snapshot in force that the latest one no longer lists (they moved out later).
        past: set[str] = set()
        for x in households:
            if x.month_from != latest[x.household_id]:
                past |= {p.person_id for p in x.members} - {p.person_id for p in members[x.household_id]}
        other_ids = {row.household_id for row in others}
        # Another household's earlier snapshot may list a member of the range in that month.
        found = await self._session.execute(
            select(hm.c.household_id)
            .distinct()
            .where(
                hm.c.person_id.in_(members_in_range),
                hm.c.month_from <= month,
                not_(and_(hm.c.household_id > after, hm.c.household_id <= upto)),
            )
        )
        other_ids.update(row.household_id for row in found)
        if past:
            # A household served from history lists persons its latest snapshot may not: the other households
            # that list them (in any snapshot) may be theirs in that month too.
            for table in (m, hm):
                found = await self._session.execute(
                    select(table.c.household_id)
                    .distinct()
                    .where(table.c.person_id.in_(sorted(past)), not_(table.c.household_id.in_(sorted(chunk))))
                )
                other_ids.update(row.household_id for row in found)
        households.extend(await self._load(sorted(other_ids - chunk), month=month))
        return self._ordered(households), chunk, past

    async def _load(self, household_ids: list[str], *, month: str | None = None) -> list[Household]:
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
        return self._ordered(await self._as_of(heads, members, month=month))

    async def _as_of(self, heads: list[Any], members: dict[str, list[Member]], *, month: str | None) -> list[Household]:
        """Each household's latest snapshot, or for a month before it the earlier snapshot in force then (a
        household not announced by then is left out)."""
        later = sorted(head.household_id for head in heads if month is not None and head.month_from > month)
        households = [
            self._household(head, members[head.household_id])
            for head in heads
            if month is None or head.month_from <= month
        ]
        if not later:
            return households
        hh, hm = self._hh, self._hm
        for start in range(0, len(later), 500):
            ids = later[start : start + 500]
            rows = await self._session.execute(select(hh).where(hh.c.household_id.in_(ids), hh.c.month_from <= month))
            snapshots: dict[str, Any] = {}
            for row in rows:
                if row.household_id not in snapshots or row.month_from > snapshots[row.household_id].month_from:
                    snapshots[row.household_id] = row
            if not snapshots:
                continue
            keys = [(hid, row.month_from) for hid, row in snapshots.items()]
            past: dict[str, list[Member]] = defaultdict(list)
            found = await self._session.execute(
                select(hm)
                .where(tuple_(hm.c.household_id, hm.c.month_from).in_(keys))
                .order_by(hm.c.household_id, hm.c.person_id)
            )
            for row in found:
                past[row.household_id].append(_member(row))
            households.extend(self._household(row, past[hid]) for hid, row in snapshots.items())
        return households

    def _household(self, head: Any, members: list[Member]) -> Household:
        self._announced[head.household_id] = head.announced_at
        return Household(
            household_id=head.household_id,
            setai_code=head.setai_code,
            version=int(head.version),
            members=tuple(members),
            month_from=head.month_from,
        )

    def _ordered(self, households: list[Household]) -> list[Household]:
        """The snapshot of the latest month first, then the one announced last (ties by id)."""
        households.sort(key=lambda x: x.household_id)
        households.sort(key=lambda x: (x.month_from, self._announced[x.household_id]), reverse=True)
        return households


def _member(row: Any) -> Member:
    return Member(
        person_id=row.person_id,
        zokugara=row.zokugara,
        birth_date=BirthDate.parse(row.birth_date),
        sex=row.sex,
        resident=bool(row.resident),
        dv_support=bool(row.dv_support),
    )
