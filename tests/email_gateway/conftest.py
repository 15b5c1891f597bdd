"""The email gateway as a real subprocess on free ports, against the real broker, and a reader for its topics; its
thread store databases (SQLite, and PostgreSQL when installed) from `support.databases`."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from aiosmtpd.controller import Controller
from google.protobuf.message import Message
from support.databases import open_engine, postgres_server, store_engine, store_url  # noqa: F401 (fixtures)

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer
from contactrouting.topics import CONTACTS_INBOUND, ensure_topics
from contactrouting.v1 import contact_pb2
from devstack.ports import free_port, wait_for_port
from devstack.readiness import wait_for_http_ok
from devstack.stack import REPO_ROOT, ServiceProcess

from .relay_sink import Relay

GATEWAY_CONFIG: dict[str, Any] = {
    "max_message_bytes": 64 * 1024,
    "mailboxes": [
        {"address": "support@example.com", "queue": "general", "response_time": "24 h"},
        {"address": "billing@example.com", "queue": "billing", "response_time": "48 h"},
        {"address": "vip@example.com", "queue": "vip", "priority": "high", "response_time": "4 h"},
        {"address": "noack@example.com", "queue": "general", "auto_acknowledge": False},
    ],
    "keyword_rules": [
        {"keywords": ["invoice", "faktura"], "queue": "billing", "mailboxes": ["support@example.com"]},
        {"keywords": ["urgent", "hitno"], "priority": "urgent"},
    ],
}


@dataclass
class RunningGateway:
    process: ServiceProcess
    smtp_port: int
    health_port: int
    relay_port: int
    var_dir: Path
    kafka_bootstrap: str

    def stop(self) -> int | None:
        return self.process.stop()


def start_gateway(
    var_dir: Path, kafka_bootstrap: str, config: dict[str, Any] | None = None, **env: str
) -> RunningGateway:
    var_dir.mkdir(parents=True, exist_ok=True)
    config_path = var_dir / "email_gateway.yaml"
    config_path.write_text(yaml.safe_dump(config or GATEWAY_CONFIG))
    smtp_port, health_port, relay_port = free_port(), free_port(), free_port()
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    process_env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        EMAIL_HEALTH_PORT=str(health_port),
        EMAIL_GATEWAY_CONFIG=str(config_path),
        SMTP_RELAY_HOST="127.0.0.1",
        SMTP_RELAY_PORT=str(relay_port),
        TRACE_DIR=str(var_dir / "traces"),
        DATA_DIR=str(var_dir / "data"),
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        # Each test gateway is its own deployment: sharing the group would make it wait for the others' rebalances.
        EMAIL_OUTBOUND_GROUP=f"email-gateway-outbound-{uuid.uuid4().hex[:8]}",
    )
    process_env.update(env)
    process = ServiceProcess("email_gateway", "services.email_gateway", process_env, var_dir / "gateway.log")
    process.start()
    gateway = RunningGateway(
        process, smtp_port, health_port, int(process_env["SMTP_RELAY_PORT"]), var_dir, kafka_bootstrap
    )
    try:
        wait_for_http_ok(f"http://127.0.0.1:{health_port}/readyz", 30)
        wait_for_port(smtp_port, 10)
    except TimeoutError:
        process.stop()
        raise AssertionError(f"email gateway did not become ready:\n{process.log_tail()}") from None
    assert REPO_ROOT.exists()
    return gateway


@pytest.fixture(scope="module")
def gateway(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    running = start_gateway(tmp_path_factory.mktemp("email_gateway"), kafka_bootstrap)
    yield running
    exit_code = running.stop()
    assert exit_code == 0, running.process.log_tail()


MessageT = TypeVar("MessageT", bound=Message)


def messages_of(records: list[ConsumedRecord], message_type: type[MessageT]) -> list[MessageT]:
    return [r.message for r in records if isinstance(r.message, message_type)]


def read_topic(
    kafka_bootstrap: str,
    topic: str,
    message_type: type[Message],
    until: Callable[[list[ConsumedRecord]], object],
    timeout_s: float = 20.0,
) -> list[ConsumedRecord]:
    """Every record of `topic` from the beginning, polled until `until(records)` is truthy or the deadline passes."""
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap),
        {topic: message_type},
        client_id="test",
        subscribe=False,
    )
    consumer.assign_from_beginning()
    records: list[ConsumedRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not until(records) and time.monotonic() < deadline:
            records.extend(consumer.poll(timeout_ms=200))
    finally:
        consumer.close()
    return records


def contacts_with_subject(gateway: RunningGateway, subject: str, count: int = 1) -> list[ConsumedRecord]:
    def matching(records: list[ConsumedRecord]) -> list[ConsumedRecord]:
        return [r for r in records if isinstance(r.message, contact_pb2.ContactEvent) and r.message.subject == subject]

    records = read_topic(
        gateway.kafka_bootstrap, CONTACTS_INBOUND, contact_pb2.ContactEvent, lambda rs: len(matching(rs)) >= count
    )
    return matching(records)


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Relay, int]]:
    """A real SMTP relay on a free port (the gateway's outbound relay), for one test module."""
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()
