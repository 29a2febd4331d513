"""Topic of every event contract: `<service>.<aggregate>.v<N>`, keyed by the aggregate id."""

from __future__ import annotations

from google.protobuf.message import Message

from mimamori.events.audit.v1 import access_pb2
from mimamori.events.casework.v1 import case_pb2, observation_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import delivery_rows_pb2, person_record_pb2, source_record_pb2
from mimamori.events.risk.v1 import alert_pb2

TOPICS: dict[type[Message], str] = {
    person_record_pb2.PersonRecordReceived: "ingest.person-record.v1",
    source_record_pb2.SourceRecordReceived: "ingest.source-record.v1",
    delivery_rows_pb2.DeliveryRowsIndexed: "ingest.delivery-rows.v1",
    person_pb2.PersonLinked: "identity.person.v1",
    person_pb2.HouseholdChanged: "identity.household.v1",
    person_pb2.ReferenceResolved: "identity.reference.v1",
    person_pb2.PersonsMerged: "identity.person.v1",
    person_pb2.PersonUnmerged: "identity.person.v1",
    observation_pb2.ObservationRecorded: "casework.observation.v1",
    case_pb2.CaseOpened: "casework.case.v1",
    case_pb2.CaseStatusChanged: "casework.case.v1",
    access_pb2.AccessRecorded: "audit.access.v1",
    alert_pb2.RiskAlertRaised: "risk.alert.v1",
}

MESSAGE_TYPES: dict[str, type[Message]] = {cls.DESCRIPTOR.full_name: cls for cls in TOPICS}


def topic_of(message: Message) -> str:
    """The topic a message of this contract is published on."""
    return TOPICS[type(message)]


def event_type(message: Message) -> str:
    """The CloudEvents `type` of a message: its protobuf full name."""
    return message.DESCRIPTOR.full_name


def decode(type_name: str, payload: bytes) -> Message:
    """Parse a payload of the named contract type."""
    message = MESSAGE_TYPES[type_name]()
    message.ParseFromString(payload)
    return message
