"""The skills service as a real subprocess on free ports, and a reader of `agents.profiles`, for integration tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer
from contactrouting.topics import AGENTS_PROFILES
from contactrouting.v1 import agent_pb2, skills_pb2_grpc
from devstack.ports import free_port
from devstack.readiness import wait_for_grpc_health
from devstack.stack import ServiceProcess

ADMIN_TOKEN = "test-admin-token"
READ_TOKEN = "test-read-token"
SERVICE_NAME = "contactrouting.v1.SkillsAdmin"


@dataclass
class RunningSkills:
    process: ServiceProcess
    port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stub(self) -> skills_pb2_grpc.SkillsAdminStub:
        return skills_pb2_grpc.SkillsAdminStub(grpc.insecure_channel(self.target))

    def start(self) -> None:
        self.process.start()
        try:
            wait_for_grpc_health(self.target, SERVICE_NAME, timeout_s=30)
        except TimeoutError:
            raise RuntimeError(f"skills did not become ready\n{self.process.log_tail()}") from None

    def stop(self) -> int | None:
        return self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace") if self.process.log_path.exists() else ""


def skills_process(var_dir: Path, kafka_bootstrap: str, **env: str) -> RunningSkills:
    """A skills service (not yet started) with its own data dir and port; `env` overrides its settings."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    full_env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        SKILLS_GRPC_PORT=str(port),
        SKILLS_ADMIN_TOKEN=ADMIN_TOKEN,
        SKILLS_READ_TOKEN=READ_TOKEN,
        DATA_DIR=str(var_dir / "data"),
        TRACE_DIR=str(var_dir / "traces"),
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        OUTBOX_POLL_INTERVAL_MS="200",
    )
    full_env.update(env)
    return RunningSkills(ServiceProcess("skills", "services.skills", full_env, var_dir / "skills.log"), port)


def admin(token: str = ADMIN_TOKEN) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


ProfileRecords = list[ConsumedRecord]


def read_profiles(
    kafka_bootstrap: str,
    keys: set[str],
    until: Callable[[ProfileRecords], bool],
    timeout_s: float = 20.0,
) -> ProfileRecords:
    """Records of `agents.profiles` whose key is in `keys`, from the beginning, polled until `until` holds."""
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap),
        {AGENTS_PROFILES: agent_pb2.AgentProfile},
        client_id="skills-test",
        subscribe=False,
    )
    consumer.assign_from_beginning()
    records: ProfileRecords = []
    deadline = time.monotonic() + timeout_s
    try:
        while not until(records) and time.monotonic() < deadline:
            records.extend(r for r in consumer.poll(timeout_ms=200) if r.key in keys)
    finally:
        consumer.close()
    return records


def versions_by_agent(records: ProfileRecords) -> dict[str, list[int]]:
    """Each agent's published versions in topic order; a tombstone shows as 0."""
    seen: dict[str, list[int]] = {}
    for record in records:
        assert record.key is not None
        version = record.message.version if isinstance(record.message, agent_pb2.AgentProfile) else 0
        seen.setdefault(record.key, []).append(version)
    return seen
