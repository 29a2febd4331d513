"""The ledger's fields of an access event are exactly what protobuf's MessageToDict gives (the chain hashes them)."""

from __future__ import annotations

from google.protobuf import json_format

from mimamori.audit.adapters.event_mapping import access_fields
from mimamori.events.audit.v1 import access_pb2


def _reference(message: access_pb2.AccessRecorded) -> dict[str, object]:
    return json_format.MessageToDict(
        message, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
    )


def test_fields_of_a_full_event_equal_message_to_dict() -> None:
    event = access_pb2.AccessRecorded(
        event_id="e-1",
        occurred_at="2026-11-26T09:00:00.000001+00:00",
        recorder="casework",
        actor="caseworker1",
        roles=["caseworker", "team_leader"],
        org_unit="kodomo",
        purpose="case_support",
        action="read",
        method="GET",
        route="/v1/persons/{person_id}/observations",
        person_ids=["p-1", "p-2"],
        outcome=access_pb2.OUTCOME_DENIED,
        reason="purpose_not_allowed",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        decision_id="d-1",
        break_glass=True,
        municipality_code="143669",
        status_code=403,
    )
    assert access_fields(event) == _reference(event)
    assert access_fields(event)["outcome"] == "OUTCOME_DENIED"


def test_defaults_are_present_as_message_to_dict_prints_them() -> None:
    event = access_pb2.AccessRecorded()
    fields = access_fields(event)
    assert fields == _reference(event)
    assert fields["roles"] == [] and fields["break_glass"] is False and fields["status_code"] == 0


def test_an_outcome_number_this_version_does_not_know_stays_a_number() -> None:
    event = access_pb2.AccessRecorded(event_id="e-2")
    event.outcome = 42  # type: ignore[assignment]  # from a newer producer
    assert access_fields(event) == _reference(event)
    assert access_fields(event)["outcome"] == 42
