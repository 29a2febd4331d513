"""From a record to its event: the layout's `event` message, filled field by field as the spec maps columns.

Every source-record event has `record_key`, `provenance` (SourceRef) and `change` (RecordChange); a date
column fills a SourceDate (raw as given, iso when on the calendar), a flag a bool, anything else a string
as given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from mimamori.contracts import MESSAGE_TYPES
from mimamori.events.common.v1.provenance_pb2 import SourceRef
from mimamori.ingest.domain.layout import Date, Flag, Layout, iso_date
from mimamori.ingest.domain.records import Change

TEXT, DATE, FLAG = 0, 1, 2


class MappingError(ValueError):
    """A spec whose columns do not fit its event message; raised at start-up."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where this delivery's records come from (the row is added per record)."""

    source: str
    municipality: str
    file_name: str
    file_sha256: str
    load_run_id: str


class EventMapper:
    """Builds the events of one layout; the field plan is worked out once."""

    def __init__(self, layout: Layout) -> None:
        message_type = MESSAGE_TYPES.get(layout.event)
        if message_type is None:
            raise MappingError(f"{layout.source}: event {layout.event} is not a registered contract")
        self.layout = layout
        self._type = message_type
        fields = message_type.DESCRIPTOR.fields_by_name
        for required in ("record_key", "provenance", "change"):
            if required not in fields:
                raise MappingError(f"{layout.event} lacks the source-record field {required}")
        plan: list[tuple[int, str, int, str]] = []
        for index, column in enumerate(layout.columns):
            descriptor = fields.get(column.field)
            if descriptor is None:
                raise MappingError(f"{layout.source}.{column.name}: {layout.event} has no field {column.field}")
            if isinstance(column.type, Date):
                kind = DATE
                if descriptor.message_type is None or descriptor.message_type.name != "SourceDate":
                    raise MappingError(f"{layout.source}.{column.name}: a date needs a SourceDate field")
            elif isinstance(column.type, Flag):
                kind = FLAG
                if descriptor.type != FieldDescriptor.TYPE_BOOL:
                    raise MappingError(f"{layout.source}.{column.name}: a flag needs a bool field")
            else:
                kind = TEXT
                if descriptor.type != FieldDescriptor.TYPE_STRING:
                    raise MappingError(f"{layout.source}.{column.name}: needs a string field")
            mark = column.type.true if isinstance(column.type, Flag) else ""
            plan.append((index, column.field, kind, mark))
        self._plan = tuple(plan)
        self._refs: dict[Provenance, SourceRef] = {}
        change_enum = fields["change"].enum_type
        self._changes = {
            c: change_enum.values_by_name[f"RECORD_CHANGE_{c.name}"].number for c in Change if c is not Change.UNCHANGED
        }

    def event(
        self,
        *,
        values: Sequence[str],
        record_key: str,
        provenance: Provenance,
        row: int,
        change: Change | None = None,
    ) -> Message:
        """The event of one record; `change` may be set later with `set_change` (REMOVED events carry the last
        accepted values and row 0)."""
        message = self._type()
        for index, name, kind, mark in self._plan:
            raw = values[index]
            if kind == TEXT:
                if raw:
                    setattr(message, name, raw)
            elif kind == DATE:
                if raw:
                    sub = getattr(message, name)
                    sub.raw = raw
                    sub.iso = iso_date(raw)
            elif raw == mark:
                setattr(message, name, True)
        message.record_key = record_key  # type: ignore[attr-defined]
        source_ref = message.provenance  # type: ignore[attr-defined]
        source_ref.CopyFrom(self._source_ref(provenance))
        source_ref.row = row
        if change is not None:
            self.set_change(message, change)
        return message

    def set_change(self, message: Message, change: Change) -> None:
        """Mark an event ADDED, CHANGED or REMOVED."""
        message.change = self._changes[change]  # type: ignore[attr-defined]

    def _source_ref(self, provenance: Provenance) -> SourceRef:
        ref = self._refs.get(provenance)
        if ref is None:
            ref = SourceRef(
                source=provenance.source,
                municipality_code=provenance.municipality,
                file_name=provenance.file_name,
                file_sha256=provenance.file_sha256,
                load_run_id=provenance.load_run_id,
            )
            self._refs = {provenance: ref}  # one delivery at a time: keep only the current one
        return ref
