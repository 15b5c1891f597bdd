"""OpenTelemetry set-up and W3C trace-context propagation through Kafka headers and agent messages."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from contactrouting.config import ServiceSettings

KafkaHeaders = list[tuple[str, bytes]]


class JsonLinesSpanExporter(SpanExporter):
    """Writes finished spans as JSON lines: the local default, read by tests and the journey view."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(span_to_dict(span), separators=(",", ":")) for span in spans]
        with self._lock:
            self._file.write("".join(line + "\n" for line in lines))
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._file.close()


def span_to_dict(span: ReadableSpan) -> dict[str, object]:
    context = span.get_span_context()
    assert context is not None
    return {
        "service": span.resource.attributes.get("service.name"),
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [
            {
                "trace_id": format(link.context.trace_id, "032x"),
                "span_id": format(link.context.span_id, "016x"),
            }
            for link in span.links
        ],
        "events": [{"name": event.name, "attributes": dict(event.attributes or {})} for event in span.events],
    }


def setup_tracing(service_name: str, settings: ServiceSettings) -> TracerProvider:
    """Install the process-wide tracer provider: OTLP when configured, JSON lines otherwise."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter: SpanExporter
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint
        # https:// is TLS, verified against OTEL_EXPORTER_OTLP_CERTIFICATE (or the system CAs); http:// is plain,
        # for a collector on the pod network or the same host.
        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=not endpoint.lower().startswith("https://"))
    else:
        exporter = JsonLinesSpanExporter(settings.trace_dir / f"{service_name}.jsonl")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    return provider


def kafka_headers(content_type: str) -> KafkaHeaders:
    """Headers for a record produced in the current context: content type plus W3C traceparent."""
    carrier: dict[str, str] = {}
    inject(carrier)
    headers = [("content-type", content_type.encode())]
    headers.extend((name, value.encode()) for name, value in carrier.items())
    return headers


def context_from_kafka_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> otel_context.Context:
    carrier = {name: value.decode("latin-1") for name, value in headers or () if value is not None}
    return extract(carrier)


def current_traceparent() -> str:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent", "")


def context_from_traceparent(traceparent: str) -> otel_context.Context:
    return extract({"traceparent": traceparent}) if traceparent else otel_context.Context()
