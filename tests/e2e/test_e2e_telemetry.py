"""One trace from the gateway through a service, across real Kafka, into the consuming service; and no personal
data in any log line or span, with known names and addresses seeded."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.kafka import KafkaBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.kit.telemetry import setup_logging
from mimamori.kit.testing.spans import SpanCapture

from .conftest import SECRET_VALUES  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)
    logging.getLogger("mimamori").setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logging.getLogger("mimamori").setLevel(logging.NOTSET)
        setup_logging("WARNING")


@pytest.fixture
async def over_kafka(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, unique: str
) -> AsyncIterator[tuple[Runtime, SpanCapture]]:
    monkeypatch.setenv("MIMAMORI_INGEST_SEED_DEMO", "false")
    capture = SpanCapture()
    settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2)
    # A namespace of its own: the broker is shared with other tests.
    bus = KafkaBus(bootstrap=kafka_bootstrap, client_id=f"e2e-{unique}", namespace=f"t{unique}.")
    async with running(targets=["all"], settings=settings, bus=bus, span_processors=[capture.processor]) as rt:
        yield rt, capture


def span_text(span: Any) -> str:
    parts = [span.name, json.dumps(dict(span.attributes or {}), ensure_ascii=False, default=str)]
    for event in span.events:
        parts.append(event.name)
        parts.append(json.dumps(dict(event.attributes or {}), ensure_ascii=False, default=str))
    parts.append(str(span.status.description or ""))
    return "\n".join(parts)


async def test_one_trace_crosses_gateway_service_and_kafka_and_no_personal_data_leaks(
    over_kafka: tuple[Runtime, SpanCapture], captured_logs: io.StringIO, slice_scenario: Any
) -> None:
    runtime, capture = over_kafka
    app = runtime.module("gateway").app
    assert app is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000", timeout=30
    ) as http:
        outcome = await slice_scenario(http).run()
    await runtime.wait_idle()

    trace_id = int(outcome.traceparent.split("-")[1], 16)
    spans = [s for s in capture.spans() if s.context.trace_id == trace_id]
    names = {s.name for s in spans}
    assert "POST /api/casework/v1/persons/{person_id}/observations" in names or any(
        n.startswith("POST /api/casework") for n in names
    ), names
    assert "POST /v1/persons/{person_id}/observations" in names, names
    consumed = [s for s in spans if s.name.endswith(" process")]
    assert any(s.attributes and s.attributes.get("messaging.destination.name") == "audit.access.v1" for s in consumed)
    by_id = {s.context.span_id: s for s in spans}
    service_span = next(s for s in spans if s.name == "POST /v1/persons/{person_id}/observations")
    assert service_span.parent is not None and service_span.parent.span_id in by_id  # the gateway's span

    everything = "\n".join(span_text(s) for s in capture.spans())
    logs = captured_logs.getvalue()
    assert logs, "the platform logged nothing: the check below would prove nothing"
    for line in logs.splitlines():
        json.loads(line)  # every line is JSON
    for secret in [*SECRET_VALUES, outcome.observation["text"]]:
        assert secret not in everything, f"personal data in a span: {secret!r}"
        assert secret not in logs, f"personal data in the logs: {secret!r}"
