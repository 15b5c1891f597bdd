"""Log lines carry the service, the trace and the contact they belong to, in JSON or on a console."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from contactrouting.config import ServiceSettings
from contactrouting.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level


def json_lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_json_lines_name_the_service_on_every_thread(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("router", ServiceSettings(log_format="json"))

    structlog.get_logger().info("service_ready", address="127.0.0.1:50051")
    worker = threading.Thread(target=lambda: structlog.get_logger().info("offer_made"))
    worker.start()
    worker.join()

    ready, offer = json_lines(capsys.readouterr().err)
    assert ready["event"] == "service_ready"
    assert ready["service"] == "router"
    assert ready["level"] == "info"
    assert str(ready["timestamp"]).endswith("Z")
    assert offer["service"] == "router"


def test_lines_inside_a_contact_span_carry_trace_and_contact_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("router", ServiceSettings(log_format="json"))
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("contacts.inbound process") as span:
        span.set_attribute("contact.id", "c-1")
        span.set_attribute("conversation.id", "conv-1")
        structlog.get_logger().info("contact_queued")
        context = span.get_span_context()
    structlog.get_logger().info("idle")

    inside, outside = json_lines(capsys.readouterr().err)
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert inside["contact_id"] == "c-1"
    assert inside["conversation_id"] == "conv-1"
    assert "trace_id" not in outside
    assert "contact_id" not in outside


def test_a_bound_contact_id_wins_over_the_span_attribute(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("router", ServiceSettings(log_format="json"))
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("batch") as span, structlog.contextvars.bound_contextvars(contact_id="c-2"):
        span.set_attribute("contact.id", "c-1")
        structlog.get_logger().info("offer_timed_out")

    (line,) = json_lines(capsys.readouterr().err)
    assert line["contact_id"] == "c-2"


def test_the_level_is_configurable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("skills", ServiceSettings(log_format="json", log_level="WARNING"))

    structlog.get_logger().info("hidden")
    structlog.get_logger().warning("shown")

    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["shown"]


def test_stdlib_warnings_are_rendered_as_json_with_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("email_gateway", ServiceSettings(log_format="json"))

    logging.getLogger("kafka.conn").warning("connection to %s refused", "127.0.0.1:1")
    logging.getLogger("kafka.conn").info("too chatty to show")

    (line,) = json_lines(capsys.readouterr().err)
    assert line["event"] == "connection to 127.0.0.1:1 refused"
    assert line["logger"] == "kafka.conn"
    assert line["service"] == "email_gateway"
    assert line["level"] == "warning"


def test_console_format_is_human_readable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("router", ServiceSettings(log_format="console"))

    structlog.get_logger().info("service_ready", address="127.0.0.1:50051")

    output = capsys.readouterr().err
    assert "service_ready" in output
    assert "address=127.0.0.1:50051" in output
    assert not output.lstrip().startswith("{")
