"""The event envelope: CloudEvents binary mode, with trace context, municipality, actor and purpose."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event as it travels: CloudEvents attributes plus our extensions; payload is protobuf bytes."""

    topic: str
    key: str
    type: str
    source: str
    payload: bytes
    municipality: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds"))
    actor: str = ""
    purpose: str = ""
    traceparent: str = ""
    tracestate: str = ""
    attempt: int = 0
    dead_letter_reason: str = ""

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers in CloudEvents binary mode (`ce_*`) plus trace context and our extensions."""
        pairs = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_type", self.type),
            ("ce_source", self.source),
            ("ce_time", self.time),
            ("content-type", CONTENT_TYPE),
            ("ce_municipality", self.municipality),
            ("ce_actor", self.actor),
            ("ce_purpose", self.purpose),
            ("traceparent", self.traceparent),
            ("tracestate", self.tracestate),
        ]
        if self.dead_letter_reason:
            pairs.append(("ce_deadletterreason", self.dead_letter_reason))
        return [(k, v.encode()) for k, v in pairs if v]

    @classmethod
    def from_headers(cls, *, topic: str, key: str, payload: bytes, headers: list[tuple[str, bytes]]) -> Envelope:
        """Rebuild an envelope from Kafka headers; raises ValueError when a required attribute is missing."""
        h = {k: v.decode() for k, v in headers}
        missing = [k for k in ("ce_id", "ce_type", "ce_source", "ce_specversion") if not h.get(k)]
        if missing:
            raise ValueError(f"not a CloudEvent: missing {', '.join(missing)}")
        return cls(
            topic=topic,
            key=key,
            type=h["ce_type"],
            source=h["ce_source"],
            payload=payload,
            municipality=h.get("ce_municipality", ""),
            id=h["ce_id"],
            time=h.get("ce_time", ""),
            actor=h.get("ce_actor", ""),
            purpose=h.get("ce_purpose", ""),
            traceparent=h.get("traceparent", ""),
            tracestate=h.get("tracestate", ""),
            dead_letter_reason=h.get("ce_deadletterreason", ""),
        )

    def dead_lettered(self, reason: str) -> Envelope:
        """This event, addressed to its topic's dead-letter topic."""
        return replace(self, topic=f"{self.topic}.dlq", dead_letter_reason=reason[:200])
