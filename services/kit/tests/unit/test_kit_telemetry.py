"""span_from continues a caller's trace: recorded when the caller sampled it, carried on unrecorded when not."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from mimamori.kit.telemetry import current_traceparent, setup_tracing, span_from
from mimamori.kit.testing.spans import SpanCapture

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"


def _capture() -> SpanCapture:
    capture = SpanCapture()
    setup_tracing(service_name="kit-test", ratio=1.0, otlp_endpoint=None, extra_processors=[capture.processor])
    return capture


def test_a_child_of_an_unsampled_parent_is_not_recorded_but_carries_the_trace_on() -> None:
    capture = _capture()
    carrier = {"traceparent": f"00-{TRACE}-{PARENT}-00", "tracestate": "vendor=1"}
    with span_from(carrier, "topic process", kind=SpanKind.CONSUMER) as span:
        traceparent, tracestate = current_traceparent()
        assert not span.is_recording()
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, trace_id, flags) == ("00", TRACE, "00")
    assert span_id not in (PARENT, "0" * 16)
    assert tracestate == "vendor=1"
    assert current_traceparent() == ("", "")
    assert all(s.context.trace_id != int(TRACE, 16) for s in capture.spans())


def test_a_child_of_a_sampled_parent_is_recorded_in_the_same_trace() -> None:
    capture = _capture()
    with span_from({"traceparent": f"00-{TRACE}-{PARENT}-01"}, "topic process", kind=SpanKind.CONSUMER) as span:
        assert span.is_recording()
    recorded = [s for s in capture.spans() if s.context.trace_id == int(TRACE, 16)]
    assert len(recorded) == 1 and recorded[0].parent is not None and recorded[0].parent.span_id == int(PARENT, 16)


def test_a_malformed_traceparent_starts_a_new_trace() -> None:
    _capture()
    with span_from({"traceparent": f"00-{TRACE}-{PARENT}-zz"}, "x", kind=SpanKind.SERVER):
        traceparent, _ = current_traceparent()
    assert traceparent and traceparent.split("-")[1] != TRACE
