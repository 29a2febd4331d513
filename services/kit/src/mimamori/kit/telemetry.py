"""OpenTelemetry traces (parent-based sampling), W3C trace context over HTTP and in events, JSON logs with trace ids.

Span attributes hold identifiers of routes, topics and services only, never personal data.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags, TraceState
from pythonjsonlogger.json import JsonFormatter

_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None
# Whether a child of an unsampled remote parent is never recorded here (the parent-based sampler this module
# installs): such a span is then made directly, without the SDK's extraction and sampling (most spans in production).
_unsampled_children_skipped = False
_ids = RandomIdGenerator()


def setup_tracing(
    *, service_name: str, ratio: float, otlp_endpoint: str | None, extra_processors: list[SpanProcessor] | None = None
) -> TracerProvider:
    """Install one tracer provider for this process (idempotent: the first call wins, later ones add processors)."""
    global _provider, _unsampled_children_skipped
    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            sampler=ParentBased(TraceIdRatioBased(ratio)),
        )
        _unsampled_children_skipped = True
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
        trace.set_tracer_provider(_provider)
    for processor in extra_processors or []:
        _provider.add_span_processor(processor)
    return _provider


def tracer(name: str) -> trace.Tracer:
    """A tracer of the installed provider."""
    return trace.get_tracer(name)


def current_traceparent() -> tuple[str, str]:
    """The W3C traceparent and tracestate of the current span ('' when none)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", ""), carrier.get("tracestate", "")


def current_trace_id() -> str:
    """The current trace id in hex, or ''."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


@contextmanager
def span_from(
    carrier: Mapping[str, str], name: str, *, kind: SpanKind, attributes: dict[str, Any] | None = None
) -> Iterator[Span]:
    """A span that continues the trace named in a carrier (HTTP headers or an event's trace context)."""
    unsampled = _unsampled_parent(carrier) if _unsampled_children_skipped else None
    if unsampled is not None:
        # What the SDK makes of a child of an unsampled parent under ParentBased: a non-recording span with a new
        # span id in the same trace, unsampled, that processors never see. It is current, so events published
        # within it carry the trace on.
        trace_id, state = unsampled
        context = SpanContext(
            trace_id, _ids.generate_span_id(), is_remote=False, trace_flags=TraceFlags(0), trace_state=state
        )
        child = NonRecordingSpan(context)
        token = otel_context.attach(trace.set_span_in_context(child))
        try:
            yield child
        finally:
            otel_context.detach(token)
        return
    parent = propagate.extract(dict(carrier))
    global _tracer
    if _tracer is None:
        # Asking the provider for a tracer costs more than an unsampled span: once per process. (Before a provider
        # is installed this is a proxy that delegates to it once there is one.)
        _tracer = trace.get_tracer("mimamori")
    token = otel_context.attach(parent)
    try:
        with _tracer.start_as_current_span(name, kind=kind, attributes=attributes) as span:
            yield span
    finally:
        otel_context.detach(token)


def _unsampled_parent(carrier: Mapping[str, str]) -> tuple[int, TraceState] | None:
    """The trace id and state of a valid W3C traceparent whose sampled flag is off, else None."""
    header = carrier.get("traceparent", "")
    if len(header) != 55 or not header.startswith("00-") or header[35] != "-" or header[52] != "-":
        return None
    try:
        trace_id, parent_span, flags = int(header[3:35], 16), int(header[36:52], 16), int(header[53:], 16)
    except ValueError:
        return None
    if trace_id == 0 or parent_span == 0 or flags & 1:
        return None
    state = carrier.get("tracestate", "")
    return trace_id, TraceState.from_header([state]) if state else TraceState()


class TraceIdFilter(logging.Filter):
    """Adds trace_id and span_id to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else ""
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else ""
        return True


class _LogHandler(logging.StreamHandler[Any]):
    """The handler `setup_logging` installs, told apart so that a second call replaces it."""


DRIVER_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg", "kafka")


def setup_logging(level: str = "INFO", stream: Any = None) -> None:
    """JSON logs on stderr carrying trace ids. Log messages are constants; values go in `extra`, never personal data."""
    handler = _LogHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(TraceIdFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, _LogHandler):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Request logs of servers and clients carry concrete paths and query strings, which may hold identifiers
    # (a 宛名番号 in a search): only our own middleware, with route templates, speaks of requests.
    logging.getLogger("uvicorn.access").disabled = True
    for chatty in ("httpx", "httpcore", "aiohttp.access", "aiohttp.client", "alembic.runtime.migration"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # At DEBUG, database drivers and the Kafka client log statement parameters and message bodies, which hold
    # personal data and free text: they stay at WARNING whatever level the platform runs at.
    for driver in DRIVER_LOGGERS:
        logging.getLogger(driver).setLevel(logging.WARNING)
