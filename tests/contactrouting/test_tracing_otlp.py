"""With OTEL_EXPORTER_OTLP_ENDPOINT set, a process's spans reach a real OTLP/gRPC receiver, not the span files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from support.otlp_receiver import OtlpTraceReceiver
from support.pki import write_pki

pytestmark = pytest.mark.integration

EMITTER = Path(__file__).with_name("otlp_span_emitter.py")


def test_spans_are_exported_over_otlp_grpc(tmp_path: Path) -> None:
    with OtlpTraceReceiver() as receiver:
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "TRACE_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, str(EMITTER)], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        spans = {span.name: span for span in receiver.wait_for(3)}

    earlier = spans["earlier message of the conversation"]
    receive = spans["smtp receive"]
    publish = spans["contacts.inbound publish"]
    assert {span.service for span in spans.values()} == {"otlp-probe"}
    assert receive.resource["telemetry.sdk.language"] == "python"
    assert receive.attributes == {
        "contact.id": "c-otlp-1",
        "conversation.id": "conv-otlp-1",
        "contact.channel": "email",
    }
    assert receive.kind == Span.SPAN_KIND_SERVER
    assert receive.parent_span_id is None
    assert receive.links == [(earlier.trace_id, earlier.span_id)]
    assert receive.trace_id != earlier.trace_id
    assert publish.kind == Span.SPAN_KIND_PRODUCER
    assert (publish.trace_id, publish.parent_span_id) == (receive.trace_id, receive.span_id)
    assert publish.attributes == {"messaging.destination.name": "contacts.inbound"}
    assert list(tmp_path.iterdir()) == []  # OTLP replaces the local span files


def test_an_https_endpoint_is_reached_over_tls_verified_against_the_configured_ca(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    pki = write_pki(tmp_path / "pki", "collector")
    tls = ((pki / "collector.crt").read_bytes(), (pki / "collector.key").read_bytes())
    with OtlpTraceReceiver(tls=tls) as receiver:
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_CERTIFICATE": str(pki / "ca.crt"),
            "TRACE_DIR": str(tmp_path / "traces"),
        }
        result = subprocess.run([sys.executable, str(EMITTER)], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

        assert {span.name for span in receiver.wait_for(3)} >= {"smtp receive", "contacts.inbound publish"}
