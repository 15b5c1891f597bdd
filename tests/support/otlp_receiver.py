"""A small OTLP/gRPC trace receiver for tests: the collector's TraceService, keeping every span it is sent.

No OpenTelemetry Collector or Jaeger binary can be installed here, so tests of the OTLP export path run this
real gRPC server (built on the `opentelemetry-proto` service stubs) and point OTEL_EXPORTER_OTLP_ENDPOINT at it.
"""

from __future__ import annotations

import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from devstack.ports import free_port


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str | None
    attributes: dict[str, Any]
    resource: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.changed = threading.Condition()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        received = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service=str(resource.get("service.name", "")),
                            name=span.name,
                            kind=span.kind,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex() or None,
                            attributes=_attributes(span.attributes),
                            resource=resource,
                            links=[(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
                        )
                    )
        with self.changed:
            self.spans.extend(received)
            self.changed.notify_all()
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpTraceReceiver:
    """`with OtlpTraceReceiver() as receiver:` then export to `receiver.endpoint` and `receiver.wait_for(n)`."""

    def __init__(self, port: int | None = None, tls: tuple[bytes, bytes] | None = None) -> None:
        """`tls`: (certificate chain, private key) in PEM, for a receiver that speaks only TLS (https://)."""
        self.port = port or free_port()
        self._service = _TraceService()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self._service, self._server)
        if tls is None:
            self.endpoint = f"http://127.0.0.1:{self.port}"
            self._server.add_insecure_port(f"127.0.0.1:{self.port}")
        else:
            self.endpoint = f"https://localhost:{self.port}"
            credentials = grpc.ssl_server_credentials([(tls[1], tls[0])])
            self._server.add_secure_port(f"127.0.0.1:{self.port}", credentials)

    def __enter__(self) -> OtlpTraceReceiver:
        self._server.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.stop(grace=None)

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._service.changed:
            return list(self._service.spans)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[ReceivedSpan]:
        """At least `count` spans, or AssertionError naming what did arrive."""
        deadline = time.monotonic() + timeout_s
        with self._service.changed:
            while len(self._service.spans) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self._service.spans)} of {count} spans arrived: {self._service.spans}"
                self._service.changed.wait(left)
            return list(self._service.spans)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None
