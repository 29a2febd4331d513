"""casework's tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
    true,
)

from mimamori.kit.db import UtcDateTime

# At most one case per person is open (not closed, not declined): the database holds the rule, so two staff who
# open a case for the same child at once cannot both succeed.
OPEN_CASE = text("status NOT IN ('closed', 'declined')")


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
        Column("recorded_at", UtcDateTime(), nullable=False),
        Index("ix_observations_person", "person_id", "observed_on"),
    )
    known_persons = Table(
        "known_persons",
        metadata,
        Column("person_id", String(36), primary_key=True),
        Column("resident", Boolean, nullable=False, server_default=true()),
        Column("updated_at", UtcDateTime(), nullable=False),
    )
    cases = Table(
        "cases",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("person_id", String(36), nullable=False),
        Column("difficulties", JSON, nullable=False),  # risk's rule ids
        Column("status", String(20), nullable=False),
        Column("risk_level", Integer, nullable=True),
        Column("decline_reason", String(40), nullable=True),
        Column("origin_rule_id", String(64), nullable=True),
        Column("origin_rule_version", Integer, nullable=True),
        Column("origin_month", String(6), nullable=True),
        Column("origin_alert_id", String(64), nullable=True),
        Column("opened_by", String(200), nullable=False),
        Column("opened_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Column("version", BigInteger, nullable=False),
        Index("ix_cases_person", "person_id"),
        Index("ix_cases_status", "status", "opened_at"),
        Index("uq_cases_open_person", "person_id", unique=True, sqlite_where=OPEN_CASE, postgresql_where=OPEN_CASE),
    )
    assignees = Table(
        "case_assignees",
        metadata,
        Column("case_id", String(36), primary_key=True),
        Column("subject", String(200), primary_key=True),
        Column("position", Integer, nullable=False),
        Index("ix_case_assignees_subject", "subject"),
    )
    history = Table(
        "case_history",
        metadata,
        Column("case_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("from_status", String(20), nullable=True),
        Column("to_status", String(20), nullable=False),
        Column("changed_by", String(200), nullable=False),
        Column("changed_at", UtcDateTime(), nullable=False),
        Column("note", Text, nullable=False),
    )
    # identity's merges, one row per merged person: as announced (merged → surviving, merge_id) and resolved
    # through chains (`person_id_now`), so a read by person is one IN over this table and an unmerge deletes a row.
    aliases = Table(
        "person_aliases",
        metadata,
        Column("merged_person_id", String(36), primary_key=True),
        Column("surviving_person_id", String(36), nullable=False),
        Column("merge_id", String(64), nullable=False),
        Column("person_id_now", String(36), nullable=False),
        Index("ix_person_aliases_now", "person_id_now"),
    )
    return {
        "observations": observations,
        "known_persons": known_persons,
        "cases": cases,
        "case_assignees": assignees,
        "case_history": history,
        "person_aliases": aliases,
    }
