"""From the AccessRecorded contract to the fields the ledger hashes."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from mimamori.events.audit.v1 import access_pb2


def access_fields(message: access_pb2.AccessRecorded) -> dict[str, Any]:
    """Every field of the event by its proto name, defaults included: equal events give equal bodies."""
    fields: dict[str, Any] = json_format.MessageToDict(
        message, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
    )
    return fields
