"""What a reader may be shown of a person, whatever the purpose of the read."""

from __future__ import annotations

from collections.abc import Iterable

from mimamori.identity.domain.model import SourceRecord


def under_support_measure(records: Iterable[SourceRecord]) -> bool:
    """Whether any of a person's records carries a DV等支援措置 (support measure) flag."""
    return any(record.values.dv_support for record in records)


def disclosed_address(record: SourceRecord, *, hidden: bool) -> str | None:
    """The address as recorded, or None under 支援措置: no purpose of this slice strictly needs it."""
    return None if hidden else record.values.address
