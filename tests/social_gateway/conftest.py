"""The social gateway as a real subprocess on free ports, against the session's real broker; its store databases
(SQLite, and PostgreSQL when installed) from `support.databases`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from support.databases import open_engine, postgres_server, store_engine, store_url  # noqa: F401 (fixtures)

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer
from contactrouting.topics import CONTACTS_INBOUND, ensure_topics
from contactrouting.v1 import contact_pb2
from devstack.ports import free_port
from devstack.readiness import wait_for_http_ok

MessageT = TypeVar("MessageT", bound=Message)

# Generous: the machine is shared with other test runs, and a slow answer is not what these tests check.
http = httpx.Client(timeout=30.0)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO_ROOT / "config" / "social_gateway.yaml"
META_SECRET = "demo-meta-secret"
X_SECRET = "demo-x-secret"


@dataclass
class GatewayProcess:
    url: str
    trace_file: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def spans(self, trace_id: str, timeout_s: float = 10.0, minimum: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        matching: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            if self.trace_file.exists():
                spans = [json.loads(line) for line in self.trace_file.read_text().splitlines() if line.strip()]
                matching = [span for span in spans if span["trace_id"] == trace_id]
                if len(matching) >= minimum:
                    return matching
            time.sleep(0.1)
        return matching


def start_gateway(
    work_dir: Path,
    kafka_bootstrap: str,
    config: Path = DEMO_CONFIG,
    demo_mode: bool = True,
    extra_env: dict[str, str] | None = None,
    wait: bool = True,
) -> GatewayProcess:
    port = free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OTEL_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        SOCIAL_GATEWAY_CONFIG=str(config),
        DEMO_MODE="true" if demo_mode else "false",
        DATA_DIR=str(work_dir / "data"),
        TRACE_DIR=str(work_dir / "traces"),
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    log_file = work_dir / "social_gateway.log"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.social_gateway"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    gateway = GatewayProcess(
        f"http://127.0.0.1:{port}", work_dir / "traces" / "social_gateway.jsonl", log_file, process
    )
    if wait:
        try:
            wait_for_http_ok(f"{gateway.url}/readyz", timeout_s=30)
        except TimeoutError:
            gateway.stop()
            raise RuntimeError(f"gateway not ready:\n{log_file.read_text(errors='replace')[-3000:]}") from None
    return gateway


@pytest.fixture(scope="session")
def topics(kafka_bootstrap: str) -> str:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    return kafka_bootstrap


@pytest.fixture(scope="module")
def gateway(topics: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = start_gateway(tmp_path_factory.mktemp("social_gateway"), topics)
    yield process
    process.stop()


@pytest.fixture(scope="session", autouse=True)
def _tracer_provider() -> None:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


def read_topic(
    kafka_bootstrap: str,
    topic: str,
    message_type: type[MessageT],
    keep: Callable[[ConsumedRecord], bool],
    until: Callable[[list[MessageT]], bool] | None = None,
    timeout_s: float = 15.0,
    settle_s: float = 0.0,
) -> list[MessageT]:
    """The messages of `topic` (from the beginning) that `keep` accepts.

    With `until`, polls until it holds, then `settle_s` longer to catch records that should NOT be there.
    Without it, reads up to the end offsets as of the call: everything a finished request could have published.
    """
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap),
        {topic: message_type},
        client_id="test",
        subscribe=False,
    )
    end_offsets = consumer.assign_from_beginning()
    messages: list[MessageT] = []
    deadline = time.monotonic() + timeout_s
    settled_at: float | None = None
    try:
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=200):
                if keep(record):
                    assert isinstance(record.message, message_type)
                    messages.append(record.message)
            if until is None:
                if all(consumer.position(partition) >= end for partition, end in end_offsets.items()):
                    break
            elif until(messages):
                settled_at = settled_at or time.monotonic() + settle_s
                if time.monotonic() >= settled_at:
                    break
    finally:
        consumer.close()
    return messages


def meta_signature(body: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def x_signature(body: bytes, secret: str = X_SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def without_volatile_fields(event: contact_pb2.ContactEvent) -> contact_pb2.ContactEvent:
    """The event minus the fields a test cannot know up front (generated ids, receive time, model confidence)."""
    stable = contact_pb2.ContactEvent()
    stable.CopyFrom(event)
    for name in ("event_id", "contact_id", "received_at", "language_confidence"):
        stable.ClearField(name)
    return stable


def inbound_events(
    kafka_bootstrap: str, conversation: str, expected: int, settle_s: float = 0.5
) -> list[contact_pb2.ContactEvent]:
    """The ContactEvents of one conversation; with expected=0, everything published so far (should be none)."""
    return read_topic(
        kafka_bootstrap,
        CONTACTS_INBOUND,
        contact_pb2.ContactEvent,
        keep=lambda record: record.key == conversation,
        until=(lambda events: len(events) >= expected) if expected else None,
        settle_s=settle_s,
    )
