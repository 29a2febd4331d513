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
from mimamori.events.ingest.v1.source_record_pb2 import PersonReference, SourceRecordReceived
from mimamori.ingest.domain.layout import Code, Date, DateTime, Flag, Integer, Layout, Month, iso_date
from mimamori.ingest.domain.records import Change

TEXT, DATE, FLAG = 0, 1, 2
SOURCE_RECORD_EVENT = "mimamori.events.ingest.v1.SourceRecordReceived"


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
    month: str = ""  # the file's extraction month (SourceRecordReceived.month)


class _Mapper:
    """What every mapper shares: the empty example, the serialized payload, the change enum, the SourceRef of the
    delivery. Subclasses set `_example`, `_changes` and `_refs` and implement `event`."""

    _example: Message
    _changes: dict[Change, int]
    _refs: dict[Provenance, SourceRef]

    def event(
        self,
        *,
        values: Sequence[str],
        record_key: str,
        provenance: Provenance,
        row: int,
        change: Change | None = None,
    ) -> Message:
        """The event of one record."""
        raise NotImplementedError

    @property
    def example(self) -> Message:
        """An empty message of the layout's event (its topic and type name the outbox rows)."""
        return self._example

    def payload(
        self,
        *,
        values: Sequence[str],
        record_key: str,
        provenance: Provenance,
        row: int,
        change: Change,
    ) -> bytes:
        """The serialized event of one record (what `event` builds)."""
        return self.event(
            values=values, record_key=record_key, provenance=provenance, row=row, change=change
        ).SerializeToString()

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


class EventMapper(_Mapper):
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
        # The delivery's month travels when the contract has it (PersonRecordReceived.month).
        month = fields.get("month")
        self._month = month is not None and month.type == FieldDescriptor.TYPE_STRING
        self._example = message_type()
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
        if self._month and provenance.month:
            message.month = provenance.month  # type: ignore[attr-defined]
        source_ref = message.provenance  # type: ignore[attr-defined]
        source_ref.CopyFrom(self._source_ref(provenance))
        source_ref.row = row
        if change is not None:
            self.set_change(message, change)
        return message


# How a value fills a field of SourceRecordReceived (by the field's type, worked out once at start-up).
STRING, SOURCE_DATE, SOURCE_MONTH, BOOL, INT = "string", "SourceDate", "SourceMonth", "bool", "int"


@dataclass(frozen=True, slots=True)
class _Fill:
    position: int  # column
    person: int  # index into the layout's roles, -1 for the body
    field: str
    how: str
    normalised: bool  # a string target of a code with a normalisation (性別 男 → "1")


def _kind(descriptor: FieldDescriptor) -> str | None:
    if getattr(descriptor, "is_repeated", False) or getattr(descriptor, "label", 1) == FieldDescriptor.LABEL_REPEATED:
        return None
    if descriptor.type == FieldDescriptor.TYPE_STRING:
        return STRING
    if descriptor.type == FieldDescriptor.TYPE_BOOL:
        return BOOL
    if descriptor.type == FieldDescriptor.TYPE_INT32:
        return INT
    if descriptor.message_type is not None and descriptor.message_type.name in (SOURCE_DATE, SOURCE_MONTH):
        return str(descriptor.message_type.name)
    return None


class SourceRecordMapper(_Mapper):
    """Builds SourceRecordReceived events of one layout: person references in the order of the spec's roles
    (a reference only when the row names that person), one body, `has_free_text` (the text itself never)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        where = layout.source
        if layout.event != SOURCE_RECORD_EVENT:
            raise MappingError(f"{where}: event must be {SOURCE_RECORD_EVENT}")
        body_oneof = SourceRecordReceived.DESCRIPTOR.oneofs_by_name["body"]
        bodies = {f.name: f for f in body_oneof.fields}
        if layout.body not in bodies:
            raise MappingError(f"{where}: body must be one of {', '.join(sorted(bodies))}")
        if not layout.persons:
            raise MappingError(f"{where}: a source record names at least one person role (persons)")
        self._body = layout.body
        body_type = bodies[layout.body].message_type
        assert body_type is not None
        body_fields = body_type.fields_by_name
        person_fields = PersonReference.DESCRIPTOR.fields_by_name
        roles = {role: i for i, role in enumerate(layout.persons)}
        for name in layout.constants:
            if name not in body_fields or _kind(body_fields[name]) != STRING:
                raise MappingError(f"{where}: constant {name} is no text field of {layout.body}")
        fills: list[_Fill] = []
        empties: list[tuple[int, int, str]] = []
        for position, column in enumerate(layout.columns):
            if column.free_text:
                continue
            for target in (*column.targets, *column.when_empty):
                parts = target.split(".")
                if parts[0] == "persons" and len(parts) == 3 and parts[1] in roles and parts[2] != "role":
                    person, fields, name = roles[parts[1]], person_fields, parts[2]
                elif parts[0] == "body" and len(parts) == 2:
                    person, fields, name = -1, body_fields, parts[1]
                else:
                    raise MappingError(f"{where}.{column.name}: {target} is not persons.<role>.<field> or body.<field>")
                descriptor = fields.get(name)
                how = _kind(descriptor) if descriptor is not None else None
                if how is None:
                    raise MappingError(f"{where}.{column.name}: {target} is no field a value can fill")
                if target in column.when_empty:
                    if how != BOOL:
                        raise MappingError(f"{where}.{column.name}: when_empty needs a bool field ({target})")
                    empties.append((position, person, name))
                    continue
                self._check(column_type=column.type, how=how, where=f"{where}.{column.name} → {target}")
                normalised = isinstance(column.type, Code) and bool(column.type.normalise)
                fills.append(_Fill(position, person, name, how, normalised))
        self._fills = tuple(fills)
        self._empties = tuple(empties)
        self._free = layout.free_text_positions
        self._example = SourceRecordReceived()
        self._refs: dict[Provenance, SourceRef] = {}
        self._changes = {
            c: SourceRecordReceived.DESCRIPTOR.fields_by_name["change"]
            .enum_type.values_by_name[f"RECORD_CHANGE_{c.name}"]
            .number
            for c in Change
            if c is not Change.UNCHANGED
        }

    @staticmethod
    def _check(*, column_type: object, how: str, where: str) -> None:
        if how == SOURCE_DATE and not isinstance(column_type, Date | DateTime):
            raise MappingError(f"{where}: a SourceDate needs a date or datetime column")
        if how == SOURCE_MONTH and not isinstance(column_type, Month):
            raise MappingError(f"{where}: a SourceMonth needs a month column")
        if how == BOOL and not isinstance(column_type, Flag):
            raise MappingError(f"{where}: a bool needs a flag column")
        if how == INT and not isinstance(column_type, Integer):
            raise MappingError(f"{where}: an int32 needs an integer column")

    def event(
        self,
        *,
        values: Sequence[str],
        record_key: str,
        provenance: Provenance,
        row: int,
        change: Change | None = None,
    ) -> Message:
        """The event of one record (REMOVED events carry the last accepted values and row 0)."""
        layout = self.layout
        columns = layout.columns
        message = SourceRecordReceived(record_key=record_key, month=provenance.month)
        message.has_free_text = any(values[i] for i in self._free)
        refs = [PersonReference(role=role) for role in layout.persons]
        named = [False] * len(refs)
        body = getattr(message, self._body)
        body.SetInParent()
        for name, value in layout.constants.items():
            setattr(body, name, value)
        for fill in self._fills:
            raw = values[fill.position]
            target = body if fill.person < 0 else refs[fill.person]
            if fill.how == INT:
                parsed = columns[fill.position].type.parse(raw) if raw else ""
                setattr(target, fill.field, int(parsed) if parsed else -1)
                continue
            if not raw:
                continue
            if fill.person >= 0:
                named[fill.person] = True
            if fill.how == STRING:
                setattr(target, fill.field, columns[fill.position].type.parse(raw) if fill.normalised else raw)
            elif fill.how == BOOL:
                setattr(target, fill.field, raw == columns[fill.position].type.true)  # type: ignore[attr-defined]
            else:
                sub = getattr(target, fill.field)
                sub.raw = raw
                sub.iso = columns[fill.position].type.parse(raw)
        for position, person, name in self._empties:
            if not values[position]:
                setattr(body if person < 0 else refs[person], name, True)
        message.persons.extend(ref for ref, was_named in zip(refs, named, strict=True) if was_named)
        message.provenance.CopyFrom(self._source_ref(provenance))
        message.provenance.row = row
        if change is not None:
            self.set_change(message, change)
        return message


RecordMapper = EventMapper | SourceRecordMapper


def mapper_for(layout: Layout) -> RecordMapper:
    """The event mapper a layout's `event` asks for; MappingError (at start-up) when the spec does not fit it."""
    if layout.event == SOURCE_RECORD_EVENT:
        return SourceRecordMapper(layout)
    return EventMapper(layout)
