"""risk's tables: the household read model fed by identity's events."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from mimamori.kit.db import UtcDateTime


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The service's own tables."""
    households = Table(
        "households",
        metadata,
        Column("household_id", String(64), primary_key=True),
        Column("setai_code", String(20), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("announced_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        # The 住民記録 month the latest snapshot holds from (HouseholdChanged.month); "" = every month.
        Column("month_from", String(6), nullable=False, server_default=""),
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
    # Earlier snapshots of a household (month_from before the latest's): a past month is scored with the
    # membership in force then. Most households have none (one snapshot, in `households`).
    history = Table(
        "household_history",
        metadata,
        Column("household_id", String(64), primary_key=True),
        Column("month_from", String(6), primary_key=True),
        Column("setai_code", String(20), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("announced_at", UtcDateTime(), nullable=False),
    )
    history_members = Table(
        "household_history_members",
        metadata,
        Column("household_id", String(64), primary_key=True),
        Column("month_from", String(6), primary_key=True),
        Column("person_id", String(64), primary_key=True),
        Column("zokugara", String(20), nullable=False),
        Column("birth_date", String(20), nullable=False),
        Column("sex", String(4), nullable=False),
        Column("resident", Boolean, nullable=False),
        Column("dv_support", Boolean, nullable=False),
        Index("ix_household_history_members_person", "person_id"),
    )
    facts = Table(
        "source_facts",
        metadata,
        Column("record_key", String(200), primary_key=True),
        Column("month", String(6), primary_key=True),
        Column("kind", String(40), nullable=False),
        Column("source", String(40), nullable=False),
        Column("file", String(200), nullable=False),
        Column("row", Integer, nullable=False),
        Column("removed", Boolean, nullable=False),
        Column("fields", JSON, nullable=False),
        Index("ix_source_facts_month", "month"),
    )
    references = Table(
        "fact_references",
        metadata,
        Column("record_key", String(200), primary_key=True),
        Column("reference_index", Integer, primary_key=True),
        Column("role", String(40), nullable=False),
        Column("person_id", String(64), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("removed", Boolean, nullable=False),
        Index("ix_fact_references_person", "person_id"),
    )
    aliases = Table(
        "person_aliases",
        metadata,
        Column("merged_person_id", String(64), primary_key=True),
        Column("surviving_person_id", String(64), nullable=False),
        Column("merge_id", String(64), nullable=False),
    )
    numbers = Table(
        "person_numbers",
        metadata,
        Column("person_id", String(64), primary_key=True),
        Column("atena_no", String(20), nullable=False),
    )
    rules = Table(
        "rule_versions",
        metadata,
        Column("rule_id", String(64), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("status", String(20), nullable=False),  # draft | adopted | superseded
        Column("title", String(200), nullable=False),
        Column("text", Text, nullable=False),
        Column("digest", String(64), nullable=False),
        Column("created_by", String(200), nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("adopted_at", UtcDateTime(), nullable=True),
    )
    assessments = Table(
        "assessments",
        metadata,
        Column("rule_id", String(64), primary_key=True),
        Column("rule_version", Integer, primary_key=True),
        Column("month", String(6), primary_key=True),
        Column("person_id", String(64), primary_key=True),
        Column("candidate", Boolean, nullable=False),
        Column("total", Integer, nullable=True),
        Column("subscores", JSON, nullable=False),
        Column("explanation", JSON, nullable=False),
        Column("household_id", String(64), nullable=False),
        Column("school_code", String(40), nullable=False),
        Column("grade", String(4), nullable=False),
        Column("age", Integer, nullable=True),
        Column("computed_at", UtcDateTime(), nullable=False),
        Index("ix_assessments_person", "person_id", "rule_id"),
    )
    alerts = Table(
        "alerts",
        metadata,
        Column("alert_id", String(64), primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("rule_id", String(64), nullable=False),
        Column("rule_version", Integer, nullable=False),
        Column("month", String(6), nullable=False),
        Column("person_id", String(64), nullable=False),
        Column("previous_band", Integer, nullable=False),
        Column("band", Integer, nullable=False),
        Column("previous_total", Integer, nullable=True),
        Column("total", Integer, nullable=True),
        Column("raised_at", UtcDateTime(), nullable=False),
        Index("ix_alerts_seq", "seq"),
    )
    runs = Table(
        "rescore_runs",
        metadata,
        Column("run_id", String(64), primary_key=True),
        Column("month", String(6), nullable=False),
        Column("rules", JSON, nullable=False),  # [[rule_id, version], ...]; empty = every adopted rule
        Column("reason", String(40), nullable=False),  # new_month | rule_adopted | requested
        Column("status", String(20), nullable=False),  # pending | running | done | failed
        Column("cursor", String(64), nullable=False),  # the last household id scored
        Column("households_total", Integer, nullable=False),
        Column("households_done", Integer, nullable=False),
        Column("children", Integer, nullable=False),
        Column("alerts", Integer, nullable=False),
        Column("baseline", JSON, nullable=False),  # rule ids whose first month this is (no alerts)
        Column("requested_at", UtcDateTime(), nullable=False),
        Column("started_at", UtcDateTime(), nullable=True),
        Column("lease_until", UtcDateTime(), nullable=True),
        Column("finished_at", UtcDateTime(), nullable=True),
        Column("error", String(200), nullable=False),
        Index("ix_rescore_runs_status", "status", "requested_at"),
    )
    districts = Table(
        "resident_districts",
        metadata,
        Column("atena_no", String(20), primary_key=True),
        Column("district", String(40), nullable=False),
    )
    cases = Table(
        "case_statuses",
        metadata,
        Column("case_id", String(64), primary_key=True),
        Column("person_id", String(64), nullable=False),
        Column("status", String(20), nullable=False),  # triage | accepted | conference | support | closed | declined
        Column("version", BigInteger, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Index("ix_case_statuses_person", "person_id"),
    )
    return {
        "case_statuses": cases,
        "resident_districts": districts,
        "rescore_runs": runs,
        "households": households,
        "household_members": members,
        "household_history": history,
        "household_history_members": history_members,
        "source_facts": facts,
        "fact_references": references,
        "person_aliases": aliases,
        "person_numbers": numbers,
        "rule_versions": rules,
        "assessments": assessments,
        "alerts": alerts,
    }
