"""`python -m services.journey` against a real broker: routing events published, the timeline printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import ROUTING_EVENTS, ensure_topics
from contactrouting.tracing import JsonLinesSpanExporter

from .scenario import offered_timed_out_reoffered_accepted_completed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published(kafka_bootstrap: str) -> tuple[str, str]:
    """One contact's whole journey and an unrelated contact on `routing.events`; returns (contact, customer)."""
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    ensure_topics(kafka_bootstrap, partitions=settings.topic_partitions, replication_factor=1)
    contact_id, customer_id = f"c-{uuid.uuid4().hex[:8]}", f"cust-{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test-journey")
    for event in [
        *offered_timed_out_reoffered_accepted_completed(contact_id, customer_id),
        *offered_timed_out_reoffered_accepted_completed(f"c-{uuid.uuid4().hex[:8]}"),
    ]:
        producer.publish(ROUTING_EVENTS, event.contact_id, event)
    producer.flush(10)
    producer.close()
    return contact_id, customer_id


def journey(kafka_bootstrap: str, trace_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TRACE_DIR": str(trace_dir), "LOG_FORMAT": "json"}
    return subprocess.run(
        [sys.executable, "-m", "services.journey", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_json_timeline_of_a_contact(kafka_bootstrap: str, published: tuple[str, str], tmp_path: Path) -> None:
    contact_id, _ = published

    result = journey(kafka_bootstrap, tmp_path, contact_id, "-o", "json")

    assert result.returncode == 0, result.stderr
    (contact,) = json.loads(result.stdout)["contacts"]
    assert contact["contact_id"] == contact_id
    assert [step["kind"] for step in contact["steps"]] == [
        "received",
        "queued",
        "offered",
        "offer_timed_out",
        "offered",
        "accepted",
        "assigned",
        "reply_sent",
        "completed",
    ]
    assert [(o["agent_id"], o["outcome"]) for o in contact["offers"]] == [("a-1", "timed_out"), ("a-2", "accepted")]
    assert contact["sla"]["status"] == "met"
    assert contact["state"] == "completed"


def test_text_timeline_by_customer_id_with_its_trace(
    kafka_bootstrap: str, published: tuple[str, str], tmp_path: Path
) -> None:
    contact_id, customer_id = published
    provider = TracerProvider(resource=Resource.create({"service.name": "email_gateway"}))
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(tmp_path / "email_gateway.jsonl")))
    with provider.get_tracer("test").start_as_current_span("smtp receive") as span:
        span.set_attribute("contact.id", contact_id)
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()

    result = journey(kafka_bootstrap, tmp_path, customer_id)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"journey of {customer_id}: 1 contact"
    assert lines[2].startswith(f"contact {contact_id} · conversation conv-{contact_id} · email · hr")
    assert any("offer_timed_out   agent a-1, offer o-1: offer_timeout" in line for line in lines)
    assert "    o-2  agent a-2  accepted after 11.7s" in lines
    assert f"  trace {trace_id}: 1 span (email_gateway)" in lines


def test_unknown_id_exits_1(kafka_bootstrap: str, published: tuple[str, str], tmp_path: Path) -> None:
    result = journey(kafka_bootstrap, tmp_path, "no-such-contact")

    assert result.returncode == 1
    assert result.stdout.strip() == "no contact, conversation or customer matches 'no-such-contact'"
