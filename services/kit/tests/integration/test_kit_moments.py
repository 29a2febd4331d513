"""Moments (`UtcDateTime`) on both databases: stored as the same instant whatever offset they were given, read
back aware in UTC, a naive one refused. SQLite keeps no zone: a plain `DateTime(timezone=True)` read back naive
there and stored a +09:00 moment as its wall-clock time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from mimamori.kit.db import NaiveMoment, UtcDateTime, create_engine

pytestmark = pytest.mark.integration

JST = timezone(timedelta(hours=9))


TABLE = Table(
    "moments", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime(), nullable=True)
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database of either kind, with the moments table created."""
    engine = create_engine(database_url, schema=None, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(TABLE.metadata.create_all)
        yield engine
    finally:
        await engine.dispose()


async def test_a_moment_comes_back_as_the_same_instant_aware_in_utc(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(TABLE),
            [
                {"id": 1, "at": datetime(2026, 4, 15, 9, 30, tzinfo=JST)},  # 00:30 UTC
                {"id": 2, "at": datetime(2026, 4, 15, 1, 0, tzinfo=UTC)},
                {"id": 3, "at": None},
            ],
        )
    async with engine.connect() as connection:
        rows = (await connection.execute(select(TABLE.c.id, TABLE.c.at).order_by(TABLE.c.at))).all()
        later = (
            (await connection.execute(select(TABLE.c.id).where(TABLE.c.at > datetime(2026, 4, 15, 9, 45, tzinfo=JST))))
            .scalars()
            .all()
        )
    stored = {row.id: row.at for row in rows}
    assert stored[1] == datetime(2026, 4, 15, 0, 30, tzinfo=UTC)
    assert stored[1].utcoffset() == timedelta(0)
    assert stored[2] == datetime(2026, 4, 15, 1, 0, tzinfo=UTC)
    assert stored[2].tzinfo is not None
    assert stored[3] is None
    # Ordered and compared as instants: 09:30+09:00 is before 01:00Z, and only 01:00Z is after 09:45+09:00.
    assert [row.id for row in rows if row.at is not None] == [1, 2]
    assert later == [2]


async def test_a_moment_without_a_zone_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(StatementError) as refused:
        async with engine.begin() as connection:
            await connection.execute(insert(TABLE), [{"id": 1, "at": datetime(2026, 4, 15, 9, 30)}])
    assert isinstance(refused.value.orig, NaiveMoment)
    async with engine.connect() as connection:
        assert (await connection.execute(select(TABLE.c.id))).all() == []
