"""The walking skeleton through the real protocols: SMTP and a signed webhook in, Kafka, router, a gRPC agent out."""

from __future__ import annotations

import json
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import CONTACTS_DEADLETTER, ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, contact_pb2, routing_pb2
from devstack.desk import DeskSession, log_in
from devstack.stack import Stack

pytestmark = pytest.mark.integration

AGENTS_FILE = Path(__file__).with_name("skeleton_agents.yaml")
RET = routing_pb2.RoutingEventType


@pytest.fixture(scope="module")
def agent(stack: Stack) -> DeskSession:
    stack.load_agents(AGENTS_FILE)
    session = log_in(f"127.0.0.1:{stack.ports.router_grpc}", "skeleton-agent")
    session.send(
        agent_desk_pb2.AgentMessage(presence=agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE))
    )
    return session


def read_topic(stack: Stack, topic: str, message_type: type, until, timeout_s: float = 30.0) -> list:
    """Every record of `topic` from the beginning, polled until `until(records)` holds."""
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=stack.kafka_bootstrap),
        {topic: message_type},
        client_id="test",
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


def gateway_spans(stack: Stack, service: str, trace_id: str, timeout_s: float = 15.0) -> list[dict]:
    path = stack.var_dir / "traces" / f"{service}.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            spans = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            matching = [span for span in spans if span["trace_id"] == trace_id]
            if matching:
                return matching
        time.sleep(0.2)
    return []


def accept(agent: DeskSession, offer: agent_desk_pb2.DeskMessage) -> agent_desk_pb2.DeskMessage:
    agent.send(
        agent_desk_pb2.AgentMessage(
            accept=agent_desk_pb2.AcceptOffer(offer_id=offer.offer.offer_id), traceparent=offer.traceparent
        )
    )
    return agent.next("assignment")


def routing_types(stack: Stack, contact_id: str) -> list[int]:
    def done(records: list) -> bool:
        return RET.ROUTING_EVENT_TYPE_ACCEPTED in [r.message.type for r in records if r.key == contact_id]

    records = read_topic(stack, ROUTING_EVENTS, routing_pb2.RoutingEvent, done)
    return [record.message.type for record in records if record.key == contact_id]


def test_email_over_smtp_reaches_a_grpc_agent_in_one_trace(stack: Stack, agent: DeskSession) -> None:
    token = uuid.uuid4().hex[:8]
    mail = EmailMessage()
    mail["From"] = "Ivana Kupac <ivana.kupac@example.net>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Problem s računom {token}"
    mail["Message-ID"] = f"<{token}@example.net>"
    mail.set_content("Dobar dan, imam problem s računom za ovaj mjesec. Molim vas pomoć.")
    with smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=30) as smtp:
        smtp.send_message(mail)

    offer = agent.next("offer")
    contact = offer.offer.contact
    assert contact.channel == contact_pb2.CHANNEL_EMAIL
    assert contact.subject == f"Problem s računom {token}"
    assert contact.language == "hr"
    assert contact.queue == "general"
    assert offer.offer.decision.chosen_agent_id == "skeleton-agent"
    assert accept(agent, offer).assignment.contact_id == contact.contact_id

    types = routing_types(stack, contact.contact_id)
    for expected in (RET.ROUTING_EVENT_TYPE_QUEUED, RET.ROUTING_EVENT_TYPE_OFFERED, RET.ROUTING_EVENT_TYPE_ACCEPTED):
        assert expected in types

    trace_id = offer.traceparent.split("-")[1]
    receive_spans = [s for s in gateway_spans(stack, "email_gateway", trace_id) if s["kind"] == "SERVER"]
    assert receive_spans, "the agent's offer must carry the trace id of the gateway's receive span"


def test_signed_telegram_webhook_reaches_a_grpc_agent_in_one_trace(stack: Stack, agent: DeskSession) -> None:
    chat_id = int(uuid.uuid4().int % 10**9)
    update = {
        "update_id": chat_id,
        "message": {
            "message_id": 7,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Marko", "language_code": "hr"},
            "text": "Pozdrav, ne radi mi prijava u aplikaciju, možete li pomoći?",
        },
    }
    response = httpx.post(
        f"http://127.0.0.1:{stack.ports.webhook}/webhooks/telegram/demo-bot",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"},
        timeout=30,
    )
    assert response.status_code == 200

    offer = agent.next("offer")
    contact = offer.offer.contact
    assert contact.channel == contact_pb2.CHANNEL_TELEGRAM
    assert contact.language == "hr"
    assert accept(agent, offer).assignment.contact_id == contact.contact_id

    types = routing_types(stack, contact.contact_id)
    assert RET.ROUTING_EVENT_TYPE_QUEUED in types and RET.ROUTING_EVENT_TYPE_ACCEPTED in types
    trace_id = offer.traceparent.split("-")[1]
    assert [s for s in gateway_spans(stack, "social_gateway", trace_id) if s["kind"] == "SERVER"]


def test_mail_for_an_unknown_mailbox_is_refused_with_550(stack: Stack) -> None:
    with (
        smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=30) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.sendmail("someone@example.net", ["nobody@elsewhere.example"], b"Subject: hi\r\n\r\nhello")
    assert next(iter(refused.value.recipients.values()))[0] == 550


def test_webhooks_with_a_bad_secret_are_refused_and_never_published(stack: Stack) -> None:
    response = httpx.post(
        f"http://127.0.0.1:{stack.ports.webhook}/webhooks/telegram/demo-bot",
        json={"update_id": 1},
        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        timeout=30,
    )
    assert response.status_code in (401, 403)


def test_signed_but_malformed_webhook_gets_400_and_a_dead_letter(stack: Stack) -> None:
    marker = f"not json {uuid.uuid4().hex}".encode()
    response = httpx.post(
        f"http://127.0.0.1:{stack.ports.webhook}/webhooks/telegram/demo-bot",
        content=marker,
        headers={"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret", "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400

    def found(records: list) -> bool:
        return any(r.message is not None and r.message.raw == marker for r in records)

    records = read_topic(stack, CONTACTS_DEADLETTER, contact_pb2.DeadLetter, found)
    dead = [r.message for r in records if r.message is not None and r.message.raw == marker]
    assert len(dead) == 1
    assert dead[0].reason
