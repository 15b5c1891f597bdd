"""Spans as the JSON-lines exporter writes them, read back for the journey."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from contactrouting.tracing import JsonLinesSpanExporter
from services.journey.adapters.span_files import read_spans
from services.journey.domain import parse_span


def test_reads_what_the_exporter_writes_and_skips_torn_lines(tmp_path: Path) -> None:
    exporter = JsonLinesSpanExporter(tmp_path / "router.jsonl")
    provider = TracerProvider(resource=Resource.create({"service.name": "router"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("contacts.inbound process") as parent:
        parent.set_attribute("contact.id", "c-1")
        parent.set_attribute("conversation.id", "conv-1")
        with provider.get_tracer("test").start_as_current_span("match"):
            pass
    provider.shutdown()
    with (tmp_path / "router.jsonl").open("a") as file:
        file.write('{"trace_id": "abc", "span_i')  # a writer killed mid-line
    (tmp_path / "notes.txt").write_text("not spans")

    child, root = read_spans(tmp_path)

    assert (root.service, root.name, root.contact_id, root.conversation_id) == (
        "router",
        "contacts.inbound process",
        "c-1",
        "conv-1",
    )
    assert child.parent_span_id == root.span_id
    assert child.trace_id == root.trace_id
    assert child.contact_id == ""
    assert 0 <= child.duration_s <= root.duration_s


def test_a_missing_trace_dir_has_no_spans(tmp_path: Path) -> None:
    assert read_spans(tmp_path / "absent") == []


def test_parse_span_refuses_foreign_json() -> None:
    assert parse_span(json.loads('{"event": "service_ready"}')) is None
    assert parse_span({"trace_id": "t", "span_id": "s", "start_ns": "soon"}) is None
