"""`agent-client --auto` as a real process against a real router: accepts, replies and completes by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import CONTACTS_OUTBOUND
from contactrouting.v1 import contact_pb2, routing_pb2
from devstack.stack import REPO_ROOT

from ..adapters.harness import Kafka, RouterUnderTest, agent_profile, contact_event, events_of, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"))
    under_test.start()
    yield under_test
    under_test.stop()


def start_client(router: RouterUnderTest, agent_id: str, log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services.router.agent_client",
                "--target",
                router.target,
                "--agent",
                agent_id,
                *args,
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def test_auto_agent_accepts_replies_and_completes(router: RouterUnderTest, kafka: Kafka, tmp_path: Path) -> None:
    skill = unique("skill")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    client = start_client(
        router, agent_id, tmp_path / "agent.log", "--auto", "--think-time", "0.3", "--reply", "Riješeno."
    )
    try:
        contacts = [contact_event(skill) for _ in range(3)]
        for contact in contacts:
            kafka.publish_contact(contact)
        for contact in contacts:
            events = events_of(kafka, contact.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_COMPLETED in types)
            completed = [e for e in events if e.type == RET.ROUTING_EVENT_TYPE_COMPLETED]
            assert [(e.agent_id, e.disposition) for e in completed] == [(agent_id, "resolved")], (
                tmp_path / "agent.log"
            ).read_text()

        def replies(records: list[ConsumedRecord]) -> set[str]:
            return {
                r.message.contact_id
                for r in records
                if isinstance(r.message, contact_pb2.OutboundMessage) and r.message.agent_id == agent_id
            }

        wanted = {c.contact_id for c in contacts}
        assert (
            replies(kafka.read(CONTACTS_OUTBOUND, contact_pb2.OutboundMessage, lambda rs: replies(rs) >= wanted))
            == wanted
        )
    finally:
        client.terminate()
        assert client.wait(10) == 0


def test_auto_agent_reconnects_after_a_router_restart(router: RouterUnderTest, kafka: Kafka, tmp_path: Path) -> None:
    skill = unique("skill")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    client = start_client(router, agent_id, tmp_path / "agent.log", "--auto", "--think-time", "0.1")
    try:
        router.stop()
        router.start()  # same port: the client keeps dialling it
        contact = contact_event(skill)
        kafka.publish_contact(contact)
        events = events_of(kafka, contact.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_COMPLETED in types)
        assert RET.ROUTING_EVENT_TYPE_COMPLETED in [e.type for e in events], (tmp_path / "agent.log").read_text()
    finally:
        client.terminate()
        client.wait(10)
