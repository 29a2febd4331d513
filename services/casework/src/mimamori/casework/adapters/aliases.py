"""identity's merges over SQLAlchemy Core: the `person_aliases` rows, and the group of ids a person is read as."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    String,
    Table,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.casework.domain.aliases import Merge, apply_merge, apply_unmerge, resolve


def person_group(aliases: Table, person: BindParameter[Any] | str) -> CompoundSelect[tuple[str]]:
    """The ids a person is read as: the person they now are and every id merged into them (just the person when
    no merge concerns them). One IN over `person_aliases`; the cases and 見守り情報 keep their own ids."""
    a = aliases
    given: ColumnElement[Any] = person if isinstance(person, BindParameter) else literal(person, String(36))
    now = func.coalesce(select(a.c.person_id_now).where(a.c.merged_person_id == given).scalar_subquery(), given)
    return select(now).union_all(select(a.c.merged_person_id).where(a.c.person_id_now == now))


class AliasRepository:
    """Merged person → surviving person, per merge; rewritten for the one or two merge trees an event touches."""

    def __init__(self, session: AsyncSession, table: Table, *, known: Table) -> None:
        self._session = session
        self._t = table
        self._known = known

    def group(self, person_id: str) -> CompoundSelect[tuple[str]]:
        """The ids this person is read as (for an IN)."""
        return person_group(self._t, person_id)

    async def hold(self, person_id: str) -> None:
        """Lock the known person, and every id merged with them, until the transaction ends: two staff opening a
        case for one child under two merged ids are then taken in turn, which the unique index on a single id
        cannot do. PostgreSQL locks the rows (in id order, so two holders cannot deadlock); SQLite takes its one
        write lock."""
        if self._session.get_bind().dialect.name == "sqlite":
            # The driver would begin lazily at the first INSERT, after both openings had found no open case.
            raw = await (await self._session.connection()).get_raw_connection()
            if raw.driver_connection is not None and not raw.driver_connection.in_transaction:
                await self._session.execute(text("BEGIN IMMEDIATE"))
            return
        k = self._known
        await self._session.execute(
            select(k.c.person_id)
            .where(k.c.person_id.in_(person_group(self._t, person_id)))
            .order_by(k.c.person_id)
            .with_for_update()
        )

    async def merge(self, *, surviving: str, merged: str, merge_id: str) -> None:
        """`merged` is now read as `surviving` (and so is whatever was merged into `merged`)."""
        held, trees = await self._trees({surviving, merged})
        await self._replace(trees, apply_merge(held, Merge(merged, surviving, merge_id)))

    async def unmerge(self, *, restored: str, merge_id: str) -> None:
        """Undo the merge `merge_id` of `restored`: it (and what was merged into it) is its own person again."""
        held, trees = await self._trees({restored})
        await self._replace(trees, apply_unmerge(held, restored=restored, merge_id=merge_id))

    async def roots(self, person_ids: Iterable[str]) -> dict[str, str]:
        """Merged → the person they now are, for every id in the merge trees of these persons (empty when no merge
        concerns them)."""
        t = self._t
        wanted = sorted(set(person_ids))
        if not wanted:
            return {}
        now_of = select(t.c.person_id_now).where(t.c.merged_person_id.in_(wanted))
        rows = await self._session.execute(
            select(t.c.merged_person_id, t.c.person_id_now).where(
                or_(t.c.person_id_now.in_(wanted), t.c.person_id_now.in_(now_of))
            )
        )
        return {r.merged_person_id: r.person_id_now for r in rows}

    async def _trees(self, persons: set[str]) -> tuple[list[Merge], set[str]]:
        """Every merge in the trees these persons belong to, and the trees' roots."""
        t = self._t
        roots = set(persons) | {
            r.person_id_now
            for r in await self._session.execute(
                select(t.c.person_id_now).where(t.c.merged_person_id.in_(sorted(persons)))
            )
        }
        rows = await self._session.execute(select(t).where(t.c.person_id_now.in_(sorted(roots))))
        return [Merge(r.merged_person_id, r.surviving_person_id, r.merge_id) for r in rows], roots

    async def _replace(self, trees: set[str], merges: list[Merge]) -> None:
        t = self._t
        await self._session.execute(delete(t).where(t.c.person_id_now.in_(sorted(trees))))
        now = resolve(merges)
        if merges:
            await self._session.execute(
                insert(t),
                [
                    {
                        "merged_person_id": m.merged_person_id,
                        "surviving_person_id": m.surviving_person_id,
                        "merge_id": m.merge_id,
                        "person_id_now": now[m.merged_person_id],
                    }
                    for m in merges
                ],
            )
