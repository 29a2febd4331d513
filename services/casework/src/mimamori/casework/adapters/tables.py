"""casework's tables."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, MetaData, String, Table, Text, true


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The service's own tables."""
    observations = Table(
        "observations",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("person_id", String(36), nullable=False),
        Column("category", String(40), nullable=False),
        Column("text", Text, nullable=False),
        Column("observed_on", Date, nullable=False),
        Column("recorded_by", String(200), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Index("ix_observations_person", "person_id", "observed_on"),
    )
    known_persons = Table(
        "known_persons",
        metadata,
        Column("person_id", String(36), primary_key=True),
        Column("resident", Boolean, nullable=False, server_default=true()),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    return {"observations": observations, "known_persons": known_persons}
