"""OpenTelemetry traces, off unless configured (docs/OPERATIONS.md).

On with MPDB_TRACING=otlp, or when the standard OTEL_EXPORTER_OTLP_ENDPOINT /
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and OTEL_SDK_DISABLED is not true). Spans go over
OTLP/HTTP to MPDB_OTLP_ENDPOINT or the endpoint of the standard variables; the exporter reads the
other OTEL_EXPORTER_OTLP_* settings (headers, timeout) and OTEL_SERVICE_NAME itself.

Spans: FastAPI's server span per request (its URL without the query string), strawberry's
operation and resolver spans (mpdb/observability/graphql.py: no document, no arguments) and one
span per Cypher statement named after its query constant (mpdb/observability/queries.py). As a
last guard, exported exception events keep the exception type and lose message and stack trace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

log = logging.getLogger(__name__)

_URL_KEYS = ("http.url", "url.full", "http.target")


def tracing_enabled(mode: str | None) -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if mode is not None:
        return mode == "otlp"
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


class ScrubbingExporter(SpanExporter):
    """Exception events as their type only: a message can quote a parameter value."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    @staticmethod
    def _scrub(span: ReadableSpan) -> ReadableSpan:
        if not any(e.name == "exception" for e in span.events):
            return span
        events = [Event("exception", {"exception.type": str((e.attributes or {}).get("exception.type", ""))},
                        e.timestamp) if e.name == "exception" else e for e in span.events]
        return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                            attributes=span.attributes, events=events, links=span.links, kind=span.kind,
                            status=span.status, start_time=span.start_time, end_time=span.end_time,
                            instrumentation_scope=span.instrumentation_scope)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([self._scrub(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _drop_query_string(span: Any, scope: dict[str, Any]) -> None:
    """FastAPI's server span records the full URL; console pages take names in the query."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_KEYS:
        if key in attributes:
            span.set_attribute(key, str(attributes[key]).split("?", 1)[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "")


def configure_tracing(app: FastAPI, mode: str | None, endpoint: str | None,
                      exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install the process's tracer provider and instrument `app`; None when tracing is off.
    `exporter` replaces the OTLP one (tests)."""
    if exporter is None and not tracing_enabled(mode):
        return None
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    resource = Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "mpdb"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(ScrubbingExporter(exporter)))
    # Global: strawberry's extension and the statement spans ask the global provider for tracers.
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, server_request_hook=_drop_query_string,
                                       excluded_urls="/healthz,/readyz,/metrics", exclude_spans=["receive", "send"])
    log.info("tracing on: OTLP/HTTP export to %s", endpoint or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
             or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "the default endpoint")
    return provider
