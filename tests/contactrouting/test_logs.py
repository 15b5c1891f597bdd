"""Log lines carry the service, the trace and the contact they belong to, in JSON or on a console."""

from __future__ import annotations

import json
import logging
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from contactrouting.config import ServiceSettings
from contactrouting.logs import configure_logging
from devstack.stack import REPO_ROOT


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


AUTO_FORMAT_PROBE = (
    "import structlog;"
    "from contactrouting.config import ServiceSettings;"
    "from contactrouting.logs import configure_logging;"
    "configure_logging('router', ServiceSettings(log_format='auto'));"
    "structlog.get_logger().info('service_ready', address='127.0.0.1:50051')"
)


def _stderr_of_probe(stderr_is_a_terminal: bool) -> str:
    """The probe's stderr, written to a pseudo-terminal (as when someone runs a service by hand) or to a pipe."""
    if not stderr_is_a_terminal:
        return subprocess.run(
            [sys.executable, "-c", AUTO_FORMAT_PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stderr
    controller, terminal = pty.openpty()
    try:
        probe = subprocess.Popen([sys.executable, "-c", AUTO_FORMAT_PROBE], cwd=REPO_ROOT, stderr=terminal)
        os.close(terminal)
        output = b""
        while chunk := _read_pty(controller):
            output += chunk
        assert probe.wait(timeout=30) == 0
    finally:
        os.close(controller)
    return output.decode(errors="replace")


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the probe closed its side of the terminal
        return b""


def test_auto_format_is_readable_on_a_terminal_and_json_otherwise() -> None:
    on_terminal = _stderr_of_probe(stderr_is_a_terminal=True)
    assert "service_ready" in on_terminal and "127.0.0.1:50051" in on_terminal
    assert not on_terminal.lstrip().startswith("{")

    [line] = json_lines(_stderr_of_probe(stderr_is_a_terminal=False))
    assert line["event"] == "service_ready" and line["service"] == "router"
