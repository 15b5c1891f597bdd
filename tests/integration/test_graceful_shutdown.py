"""SIGTERM stops each service gracefully: no new work, what it holds is finished or handed back, exit 0 in time.

Each test runs clients against a service while it receives SIGTERM, then checks that everything the service
acknowledged (an SMTP 250, a webhook 200, a gRPC OK, an offer) is on Kafka or comes back after a restart.
"""

from __future__ import annotations

import signal
import smtplib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import grpc
import httpx
import pytest

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import AGENTS_PROFILES, CONTACTS_INBOUND, ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, agent_pb2, contact_pb2, routing_pb2, skills_pb2, skills_pb2_grpc
from devstack.desk import DeskSession, StreamEnded, log_in
from devstack.stack import Stack, StackPorts

pytestmark = pytest.mark.integration

# Each service must be gone this long after SIGTERM (the router's stream grace is 5 s; gateways flush producers).
EXIT_BOUND_S = 15.0
RET = routing_pb2.RoutingEventType
SHUTDOWN_TIMES: dict[str, float] = {}
LOAD_FIGURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: these tests stop and restart services, which must not disturb other modules."""
    platform = Stack(tmp_path_factory.mktemp("shutdown"), StackPorts.free())
    try:
        platform.start()
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()
    for name, took in SHUTDOWN_TIMES.items():
        print(f"\n{name}: exited {took:.2f}s after SIGTERM {LOAD_FIGURES.get(name, '')}", end="")
    print()


@pytest.fixture(autouse=True)
def all_running(stack: Stack) -> None:
    """A test that failed after its SIGTERM left its service down: the next test starts from a whole stack."""
    for name in ("skills", "router", "email_gateway", "social_gateway"):
        if not stack.services[name].running:
            restart(stack, name)


def sigterm_and_wait(stack: Stack, name: str) -> tuple[int, float]:
    """SIGTERM the service; (exit code, seconds to exit). Fails if it outlives the bound."""
    process = stack.services[name].process
    assert process is not None and process.poll() is None, f"{name} is not running"
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(EXIT_BOUND_S)
    except Exception:
        process.kill()
        process.wait()
        pytest.fail(f"{name} still running {EXIT_BOUND_S}s after SIGTERM\n{stack.services[name].log_tail()}")
    took = time.monotonic() - started
    SHUTDOWN_TIMES[name] = took
    return code, took


def restart(stack: Stack, name: str) -> None:
    stack.start_service(name)
    stack.wait_ready(name)


def read_topic(stack: Stack, topic: str, message_type: type, until: Callable[[list], bool], timeout_s: float = 30):
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=stack.kafka_bootstrap),
        {topic: message_type},
        client_id="test-shutdown",
        subscribe=False,
    )
    consumer.assign_from_beginning()
    records: list = []
    deadline = time.monotonic() + timeout_s
    try:
        while not until(records) and time.monotonic() < deadline:
            records.extend(consumer.poll(timeout_ms=300))
    finally:
        consumer.close()
    return records


class Load:
    """Clients sending one request after another until stopped or the server goes away, several at once so that
    requests are in flight when SIGTERM lands; remembers what was acknowledged (list.append is thread-safe)."""

    def __init__(self, send: Callable[[str], bool], clients: int = 4) -> None:
        self._send = send
        self.acknowledged: list[str] = []
        self.failures: list[str] = []
        self._halt = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        refused = 0
        while not self._halt.is_set() and refused < 10:
            marker = uuid.uuid4().hex[:12]
            try:
                if self._send(marker):
                    self.acknowledged.append(marker)
                    continue
            except (OSError, smtplib.SMTPException, httpx.HTTPError):
                pass
            self.failures.append(marker)
            refused += 1
            time.sleep(0.05)

    def stop(self, name: str) -> None:
        self._halt.set()
        for thread in self._threads:
            thread.join(30)
        LOAD_FIGURES[name] = f"({len(self.acknowledged)} acknowledged under load, {len(self.failures)} refused)"


def test_router_rescinds_the_pending_offer_on_sigterm_and_offers_it_again_after_restart(stack: Stack) -> None:
    target = f"127.0.0.1:{stack.ports.router_grpc}"
    agent = _available(log_in(target, "emma.wilson"))
    token = uuid.uuid4().hex[:8]
    _send_mail(stack, f"Order question {token}", "Hello, I have a question about my last order. Thank you!")
    offer = agent.next("offer", timeout_s=30).offer

    code, took = sigterm_and_wait(stack, "router")

    assert code == 0, stack.services["router"].log_tail()
    assert took < EXIT_BOUND_S
    seen = _drain(agent)
    assert any(m.WhichOneof("kind") == "offer_rescinded" and m.offer_rescinded.offer_id == offer.offer_id for m in seen)
    agent.close()

    def rescinded(records: list) -> bool:
        return any(
            r.key == offer.contact.contact_id and r.message.type == RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED
            for r in records
        )

    assert rescinded(read_topic(stack, ROUTING_EVENTS, routing_pb2.RoutingEvent, rescinded))

    restart(stack, "router")
    agent = _available(log_in(target, "emma.wilson"))
    again = agent.next("offer", timeout_s=30).offer
    assert again.contact.contact_id == offer.contact.contact_id
    agent.send(agent_desk_pb2.AgentMessage(reject=agent_desk_pb2.RejectOffer(offer_id=again.offer_id, reason="test")))
    agent.close()


def test_email_gateway_on_sigterm_publishes_every_mail_it_answered_250(stack: Stack) -> None:
    def send(marker: str) -> bool:
        _send_mail(stack, f"Shutdown {marker}", "Hello, this mail arrives while the gateway stops.", timeout_s=5)
        return True

    load = Load(send)
    load.start()
    _wait_for(lambda: len(load.acknowledged) >= 10, "mails accepted before SIGTERM")

    code, took = sigterm_and_wait(stack, "email_gateway")
    load.stop("email_gateway")

    assert code == 0, stack.services["email_gateway"].log_tail()
    assert took < EXIT_BOUND_S
    assert load.failures, "new mail must be refused once the gateway stops"
    _assert_all_published(stack, load.acknowledged, lambda event: event.subject.removeprefix("Shutdown "))
    restart(stack, "email_gateway")


def test_social_gateway_on_sigterm_publishes_every_webhook_it_answered_200(stack: Stack) -> None:
    def send(marker: str) -> bool:
        unique = int(uuid.uuid4().int % 10**9)  # a new message each time, not a redelivery the gateway dedupes
        update = {
            "update_id": unique,
            "message": {
                "message_id": unique,
                "date": int(time.time()),
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "Test"},
                "text": f"Hello {marker}, this message arrives while the gateway stops.",
            },
        }
        response = httpx.post(
            f"http://127.0.0.1:{stack.ports.webhook}/webhooks/telegram/demo-bot",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"},
            timeout=5,
        )
        return response.status_code == 200

    load = Load(send)
    load.start()
    _wait_for(lambda: len(load.acknowledged) >= 10, "webhooks accepted before SIGTERM")

    code, took = sigterm_and_wait(stack, "social_gateway")
    load.stop("social_gateway")

    assert code == 0, stack.services["social_gateway"].log_tail()
    assert took < EXIT_BOUND_S
    assert load.failures, "new webhooks must be refused once the gateway stops"
    _assert_all_published(stack, load.acknowledged, lambda event: event.body_text.split(" ")[1].rstrip(","))
    restart(stack, "social_gateway")


def test_skills_on_sigterm_relays_every_change_it_confirmed_to_agents_profiles(stack: Stack) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{stack.ports.skills_grpc}")
    admin = skills_pb2_grpc.SkillsAdminStub(channel)
    metadata = (("authorization", "Bearer demo-admin-token"),)

    def create(marker: str) -> bool:
        profile = agent_pb2.AgentProfile(
            agent_id=f"shutdown-{marker}",
            display_name="Shutdown Test",
            skills=[agent_pb2.SkillLevel(skill="general", proficiency=3)],
            languages=[agent_pb2.LanguageLevel(language="en", level=4)],
            queues=["general"],
            active=True,
        )
        admin.CreateAgent(skills_pb2.CreateAgentRequest(agent=profile), metadata=metadata, timeout=5)
        return True

    def create_or_fail(marker: str) -> bool:
        try:
            return create(marker)
        except grpc.RpcError as error:
            raise OSError(error.code().name) from None

    load = Load(create_or_fail)
    load.start()
    _wait_for(lambda: len(load.acknowledged) >= 10, "agents created before SIGTERM")

    code, took = sigterm_and_wait(stack, "skills")
    load.stop("skills")
    channel.close()

    assert code == 0, stack.services["skills"].log_tail()
    assert took < EXIT_BOUND_S
    wanted = {f"shutdown-{marker}" for marker in load.acknowledged}

    def all_relayed(records: list) -> bool:
        return wanted <= {record.key for record in records}

    relayed = {record.key for record in read_topic(stack, AGENTS_PROFILES, agent_pb2.AgentProfile, all_relayed)}
    assert wanted <= relayed, f"confirmed but never relayed: {sorted(wanted - relayed)}"
    restart(stack, "skills")


# --- helpers --------------------------------------------------------------------------------------------------


def _send_mail(stack: Stack, subject: str, body: str, timeout_s: float = 30) -> None:
    mail = EmailMessage()
    mail["From"] = "Shutdown Test <shutdown.test@example.net>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.net>"
    mail.set_content(body)
    with smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=timeout_s) as smtp:
        smtp.send_message(mail)


def _available(session: DeskSession) -> DeskSession:
    presence = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE)
    session.send(agent_desk_pb2.AgentMessage(presence=presence))
    return session


def _drain(session: DeskSession, timeout_s: float = EXIT_BOUND_S) -> list[agent_desk_pb2.DeskMessage]:
    """Everything the router still sent until the stream ended."""
    messages = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            message = session.receive(0.5)
            if message is not None:
                messages.append(message)
    except StreamEnded:
        return messages
    pytest.fail("the agent's stream did not end with the router")


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _assert_all_published(
    stack: Stack, markers: list[str], marker_of: Callable[[contact_pb2.ContactEvent], str]
) -> None:
    wanted = set(markers)

    def found(records: list) -> set[str]:
        return {marker_of(record.message) for record in records} & wanted

    records = read_topic(stack, CONTACTS_INBOUND, contact_pb2.ContactEvent, lambda rs: found(rs) == wanted)
    missing = wanted - found(records)
    assert not missing, f"{len(missing)} of {len(wanted)} acknowledged contacts never reached Kafka: {sorted(missing)}"
