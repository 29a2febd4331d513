"""The event envelope: CloudEvents binary-mode headers there and back, and what is refused."""

from __future__ import annotations

import pytest

from mimamori.kit.messaging.envelope import Envelope


def full() -> Envelope:
    return Envelope(
        topic="casework.observation.v1",
        key="person-42",
        type="mimamori.events.casework.v1.ObservationRecorded",
        source="casework",
        payload=b"\x0a\x03abc",
        municipality="143669",
        actor="staff-001",
        purpose="case_support",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate="mimamori=1",
    )


def test_every_attribute_survives_the_header_round_trip() -> None:
    sent = full()
    back = Envelope.from_headers(topic=sent.topic, key=sent.key, payload=sent.payload, headers=sent.headers())
    assert back == sent


def test_headers_are_cloudevents_binary_mode_with_our_extensions() -> None:
    sent = full()
    headers = dict(sent.headers())
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": sent.id.encode(),
        "ce_type": b"mimamori.events.casework.v1.ObservationRecorded",
        "ce_source": b"casework",
        "ce_time": sent.time.encode(),
        "content-type": b"application/protobuf",
        "ce_municipality": b"143669",
        "ce_actor": b"staff-001",
        "ce_purpose": b"case_support",
        "traceparent": sent.traceparent.encode(),
        "tracestate": b"mimamori=1",
    }


def test_empty_optional_attributes_are_left_out_and_come_back_empty() -> None:
    bare = Envelope(topic="t", key="k", type="x.Y", source="s", payload=b"", municipality="143669")
    names = [name for name, _ in bare.headers()]
    assert "ce_actor" not in names and "traceparent" not in names and "ce_deadletterreason" not in names
    back = Envelope.from_headers(topic="t", key="k", payload=b"", headers=bare.headers())
    assert back == bare


def test_every_event_gets_its_own_id_and_a_utc_time() -> None:
    a = Envelope(topic="t", key="k", type="x.Y", source="s", payload=b"", municipality="1")
    b = Envelope(topic="t", key="k", type="x.Y", source="s", payload=b"", municipality="1")
    assert a.id != b.id
    assert a.time.endswith("+00:00")


def test_a_dead_letter_keeps_the_event_and_names_the_reason() -> None:
    sent = full()
    letter = sent.dead_lettered("failed:ValueError")
    assert (letter.topic, letter.id, letter.payload, letter.type) == (
        "casework.observation.v1.dlq",
        sent.id,
        sent.payload,
        sent.type,
    )
    assert dict(letter.headers())["ce_deadletterreason"] == b"failed:ValueError"
    back = Envelope.from_headers(
        topic=letter.topic, key=letter.key, payload=letter.payload, headers=letter.headers()
    )
    assert back.dead_letter_reason == "failed:ValueError"
    assert len(sent.dead_lettered("x" * 1000).dead_letter_reason) == 200


@pytest.mark.parametrize("dropped", ["ce_id", "ce_type", "ce_source", "ce_specversion"])
def test_a_message_without_a_required_attribute_is_refused(dropped: str) -> None:
    headers = [(k, v) for k, v in full().headers() if k != dropped]
    with pytest.raises(ValueError, match=f"missing {dropped}"):
        Envelope.from_headers(topic="t", key="k", payload=b"", headers=headers)


def test_a_message_with_no_headers_names_everything_missing() -> None:
    with pytest.raises(ValueError, match="missing ce_id, ce_type, ce_source, ce_specversion"):
        Envelope.from_headers(topic="t", key="k", payload=b"", headers=[])


def test_an_empty_required_attribute_counts_as_missing() -> None:
    headers = [(k, b"" if k == "ce_id" else v) for k, v in full().headers()]
    with pytest.raises(ValueError, match="missing ce_id"):
        Envelope.from_headers(topic="t", key="k", payload=b"", headers=headers)


def test_headers_that_are_not_utf8_are_refused() -> None:
    headers = [*full().headers(), ("ce_actor", b"\xff\xfe")]
    with pytest.raises(UnicodeDecodeError):
        Envelope.from_headers(topic="t", key="k", payload=b"", headers=headers)
