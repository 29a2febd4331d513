"""risk's tables: the household read model fed by identity's events."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, MetaData, String, Table


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The service's own tables."""
    households = Table(
        "households",
        metadata,
        Column("household_id", String(64), primary_key=True),
        Column("setai_code", String(20), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("announced_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    members = Table(
        "household_members",
        metadata,
        Column("household_id", String(64), primary_key=True),
        Column("person_id", String(64), primary_key=True),
        Column("zokugara", String(20), nullable=False),
        Column("birth_date", String(20), nullable=False),
        Column("sex", String(4), nullable=False),
        Column("resident", Boolean, nullable=False),
        Column("dv_support", Boolean, nullable=False),
        Index("ix_household_members_person", "person_id"),
    )
    return {"households": households, "household_members": members}
