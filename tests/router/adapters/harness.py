"""A router under test as a real subprocess, a real gRPC desk client, and Kafka input/output helpers."""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf.message import Message

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer, ProtoProducer
from contactrouting.topics import AGENTS_PROFILES, CONTACTS_INBOUND, ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc, agent_pb2, contact_pb2, routing_pb2
from devstack.ports import free_port
from devstack.readiness import wait_for_grpc_health
from devstack.stack import ServiceProcess

TEST_POLICY = """
default_queue: general
offer_timeout_s: {offer_timeout_s}
disconnect_grace_s: {disconnect_grace_s}
queues:
  - name: general
    sla_s: {{default: 3600}}
"""


@dataclass
class RouterUnderTest:
    """`python -m services.router` on a free port; restartable, killable."""

    bootstrap: str
    var_dir: Path
    offer_timeout_s: float = 20.0
    disconnect_grace_s: float = 120.0
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: ServiceProcess | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def policy_file(self) -> Path:
        return self.var_dir / "routing_policy.yaml"

    def write_policy(self, text: str) -> None:
        self.policy_file.write_text(text)

    def start(self, timeout_s: float = 60.0) -> None:
        if not self.policy_file.exists():
            self.write_policy(
                TEST_POLICY.format(offer_timeout_s=self.offer_timeout_s, disconnect_grace_s=self.disconnect_grace_s)
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OTEL_"))}
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            ROUTER_GRPC_HOST="127.0.0.1",
            ROUTER_GRPC_PORT=str(self.port),
            ROUTING_POLICY_FILE=str(self.policy_file),
            TRACE_DIR=str(self.var_dir / "traces"),
            DATA_DIR=str(self.var_dir / "data"),
            LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        self.process = ServiceProcess("router", "services.router", env, self.var_dir / "router.log")
        self.process.start()
        try:
            wait_for_grpc_health(self.target, "contactrouting.v1.AgentDesk", timeout_s)
        except TimeoutError:
            raise AssertionError(f"router not ready:\n{self.process.log_tail(40)}") from None

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def stop(self) -> int | None:
        return self.process.stop() if self.process is not None else None

    def log_text(self) -> str:
        path = self.var_dir / "router.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Desk:
    """A real AgentDesk client: one bidirectional stream, incoming messages read on a thread."""

    def __init__(self, target: str, agent_id: str, token: str = "") -> None:
        self.agent_id = agent_id
        self._channel = grpc.insecure_channel(target)
        self._outgoing: queue.Queue[agent_desk_pb2.AgentMessage | None] = queue.Queue()
        self.incoming: queue.Queue[agent_desk_pb2.DeskMessage] = queue.Queue()
        self.ended = threading.Event()
        self.send(agent_desk_pb2.AgentMessage(login=agent_desk_pb2.Login(agent_id=agent_id, token=token)))
        self._call = agent_desk_pb2_grpc.AgentDeskStub(self._channel).Connect(iter(self._outgoing.get, None))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for message in self._call:
                self.incoming.put(message)
        except grpc.RpcError:
            pass
        finally:
            self.ended.set()

    def send(self, message: agent_desk_pb2.AgentMessage) -> None:
        self._outgoing.put(message)

    def next(self, kind: str, timeout_s: float = 20.0) -> agent_desk_pb2.DeskMessage:
        """The next message of this oneof kind, skipping others."""
        message = self.maybe_next(kind, timeout_s)
        if message is None:
            raise AssertionError(f"{self.agent_id}: no {kind} within {timeout_s}s")
        return message

    def maybe_next(self, kind: str, timeout_s: float) -> agent_desk_pb2.DeskMessage | None:
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = self.incoming.get(timeout=remaining)
            except queue.Empty:
                return None
            if message.WhichOneof("kind") == kind:
                return message
        return None

    def accept(self, offer: agent_desk_pb2.DeskMessage) -> None:
        self.send(
            agent_desk_pb2.AgentMessage(
                accept=agent_desk_pb2.AcceptOffer(offer_id=offer.offer.offer_id), traceparent=offer.traceparent
            )
        )

    def close(self) -> None:
        self._outgoing.put(None)
        self._call.cancel()
        self._channel.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def agent_profile(
    agent_id: str, skill: str, languages: tuple[str, ...] = ("en", "hr"), email_capacity: int = 5
) -> agent_pb2.AgentProfile:
    return agent_pb2.AgentProfile(
        agent_id=agent_id,
        display_name=agent_id,
        skills=[agent_pb2.SkillLevel(skill=skill, proficiency=3)],
        languages=[agent_pb2.LanguageLevel(language=language, level=5) for language in languages],
        capacity=[
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_EMAIL, max_concurrent=email_capacity),
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_TELEGRAM, max_concurrent=3),
        ],
        queues=["general"],
        active=True,
        version=1,
    )


def contact_event(
    skill: str, language: str = "hr", channel: int = contact_pb2.CHANNEL_EMAIL
) -> contact_pb2.ContactEvent:
    contact_id = unique("contact")
    event = contact_pb2.ContactEvent(
        event_id=unique("event"),
        contact_id=contact_id,
        conversation_id=unique("conversation"),
        channel=channel,  # type: ignore[arg-type]
        customer=contact_pb2.Customer(
            customer_id=unique("customer"), handle="ivana.kupac@example.net", display_name="Ivana Kupac"
        ),
        subject=f"Racun {contact_id}",
        body_text="Dobar dan, imam problem s racunom.",
        language=language,
        language_confidence=0.9,
        queue="general",
        required_skills=[contact_pb2.SkillRequirement(skill=skill, min_proficiency=2)],
        source=contact_pb2.SourceRef(mailbox="support@example.com", platform_message_id=f"<{contact_id}@example.net>"),
    )
    event.received_at.GetCurrentTime()
    return event


class Kafka:
    """Publishing test input and reading routing output through the real broker."""

    def __init__(self, bootstrap: str) -> None:
        self.settings = ServiceSettings(kafka_bootstrap_servers=bootstrap)
        self.producer = ProtoProducer(self.settings, client_id="router-test")

    def publish_agent(self, profile: agent_pb2.AgentProfile) -> None:
        self.producer.publish_and_wait(AGENTS_PROFILES, profile.agent_id, profile)

    def publish_contact(self, event: contact_pb2.ContactEvent) -> None:
        self.producer.publish_and_wait(CONTACTS_INBOUND, event.conversation_id, event)

    def read(
        self,
        topic: str,
        message_type: type[Message],
        until: Callable[[list[ConsumedRecord]], bool],
        timeout_s: float = 20.0,
    ) -> list[ConsumedRecord]:
        """Every record of `topic` from the beginning, polled until `until(records)` holds or time runs out."""
        consumer = ProtoConsumer(self.settings, {topic: message_type}, client_id="router-test-reader", subscribe=False)
        consumer.assign_from_beginning()
        records: list[ConsumedRecord] = []
        deadline = time.monotonic() + timeout_s
        try:
            while not until(records) and time.monotonic() < deadline:
                records.extend(consumer.poll(timeout_ms=200))
        finally:
            consumer.close()
        return records

    def close(self) -> None:
        self.producer.close()


def events_of(kafka: Kafka, contact_id: str, done: Callable[[list[int]], bool]) -> list[routing_pb2.RoutingEvent]:
    def finished(records: list[ConsumedRecord]) -> bool:
        return done(
            [r.message.type for r in records if isinstance(r.message, routing_pb2.RoutingEvent) and r.key == contact_id]
        )

    records = kafka.read(ROUTING_EVENTS, routing_pb2.RoutingEvent, finished)
    return [r.message for r in records if r.key == contact_id and isinstance(r.message, routing_pb2.RoutingEvent)]


def logged_in(router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka, skill: str) -> Desk:
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    deadline = time.monotonic() + 15
    while True:  # the router follows agents.profiles live; the profile may land a moment after we publish it
        desk = desks(router.target, agent_id)
        first = desk.incoming.get(timeout=10)
        if first.WhichOneof("kind") == "login_accepted":
            return desk
        assert first.error.code == "unknown_agent", first
        assert time.monotonic() < deadline, "the agent's profile never reached the router"
        time.sleep(0.2)


class AutoAgent:
    """A scripted agent on a real desk stream: accepts every offer at once and records what it was handed."""

    def __init__(self, target: str, agent_id: str) -> None:
        self.agent_id = agent_id
        self.desk = Desk(target, agent_id)
        self.logged_in = threading.Event()
        self.assigned: list[str] = []
        self.refused: list[str] = []
        threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while not (self.desk.ended.is_set() and self.desk.incoming.empty()):
            try:
                message = self.desk.incoming.get(timeout=0.1)
            except queue.Empty:
                continue
            kind = message.WhichOneof("kind")
            if kind == "login_accepted":
                self.logged_in.set()
            elif kind == "offer":
                self.desk.accept(message)
            elif kind == "assignment":
                self.assigned.append(message.assignment.contact_id)
            elif kind == "error":
                self.refused.append(message.error.code)

    def close(self) -> None:
        self.desk.close()
