"""No customer PII in telemetry: a scripted journey with known names, addresses, phone numbers and text through
the real stack (SMTP, signed webhooks, a gRPC agent who accepts, replies and completes), then every log line,
span and metric scraped from the services is searched for them.

mail_sink.log is left out: it is the customer's mailbox, where the agent's reply belongs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from support.pii import assert_no_pii, telemetry_texts

from contactrouting.v1 import agent_desk_pb2, contact_pb2
from devstack.desk import DeskSession, log_in
from devstack.ports import free_port
from devstack.stack import Stack, StackPorts

from .customers import send_telegram

pytestmark = pytest.mark.integration

SERVICES = ("skills", "router", "email_gateway", "social_gateway")

EMAIL_NAME = "Gwendolyn Xanthopoulou"
EMAIL_ADDRESS = "gwendolyn.xanthopoulou@pii-probe.example"
EMAIL_SUBJECT = "Violet umbrella parcel missing"
EMAIL_BODY = "Hello, my parcel with the violet umbrella never arrived. Call me on +385 91 555 0147 please."
TELEGRAM_NAME = ("Bartholomew", "Quigglesworth")
TELEGRAM_TEXT = "Hello, the turquoise kettle I ordered is leaking everywhere, what can I do?"
WHATSAPP_NAME = "Philippa Marchbanks"
WHATSAPP_PHONE = "385917770123"
WHATSAPP_TEXT = "Hi there, the lavender bicycle bell rings twice every time, is that normal?"
AGENT_REPLY = "Dear customer, we are sending a replacement marigold parcel tomorrow morning."
WRAP_UP = "Customer Gwendolyn asked about the violet umbrella, replacement marigold parcel sent."

FORBIDDEN = (
    EMAIL_NAME,
    "Xanthopoulou",
    EMAIL_ADDRESS,
    "gwendolyn.xanthopoulou",
    EMAIL_SUBJECT,
    "violet umbrella",
    "+385 91 555 0147",
    "385915550147",
    "Quigglesworth",
    "Bartholomew",
    "turquoise kettle",
    WHATSAPP_NAME,
    "Marchbanks",
    WHATSAPP_PHONE,
    "lavender bicycle",
    "marigold parcel",
)


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, int]]]:
    """The stack, with /metrics on a free port per service, after the whole journey has run."""
    metrics_ports = {name: free_port() for name in SERVICES}
    overrides = {name: {"METRICS_PORT": str(port)} for name, port in metrics_ports.items()}
    # Debug level: what a service logs only when someone is chasing a problem must be free of PII too.
    stack = Stack(
        tmp_path_factory.mktemp("pii"),
        StackPorts.free(),
        extra_env={"LOG_LEVEL": "debug"},
        service_env_overrides=overrides,
    )
    try:
        stack.start()
        agent = _available(log_in(f"127.0.0.1:{stack.ports.router_grpc}", "emma.wilson"))
        try:
            # Each offer carries the customer's words: the PII really went through every service.
            _send_mail(stack)
            assert "violet umbrella" in _handle_next_offer(agent, reply=True).body_text
            send_telegram(stack, TELEGRAM_TEXT, first_name=TELEGRAM_NAME[0], last_name=TELEGRAM_NAME[1])
            assert "turquoise kettle" in _handle_next_offer(agent, reply=True).body_text
            _send_whatsapp(stack)
            assert "lavender bicycle" in _handle_next_offer(agent, reply=False).body_text
        finally:
            agent.close()
        _wait_for_reply_mail(stack)
        time.sleep(1.5)  # spans are exported in batches; give the last ones their flush
        yield stack, metrics_ports
    finally:
        stack.stop()


def test_no_pii_in_any_log_line_or_span(journey: tuple[Stack, dict[str, int]]) -> None:
    stack, _ = journey
    logs = [path for path in sorted((stack.var_dir / "logs").glob("*.log")) if path.name != "mail_sink.log"]
    spans = sorted((stack.var_dir / "traces").glob("*.jsonl"))
    assert {path.stem for path in logs} >= set(SERVICES)
    assert spans, "the services wrote no spans: the scan would prove nothing"
    texts = telemetry_texts(*logs, *spans)
    # The journey really happened: the router logged the assignments, the mail sink got the reply.
    assert sum(text.count("contact_received") for _, text in texts) >= 1

    assert_no_pii(texts, FORBIDDEN)


@pytest.mark.parametrize("service", SERVICES)
def test_no_pii_in_metric_labels(journey: tuple[Stack, dict[str, int]], service: str) -> None:
    _, ports = journey
    try:
        response = httpx.get(f"http://127.0.0.1:{ports[service]}/metrics", timeout=5)
    except httpx.HTTPError:
        pytest.skip(f"{service} does not serve /metrics on METRICS_PORT yet")
    assert response.status_code == 200
    assert "# TYPE" in response.text

    assert_no_pii([(f"{service} /metrics", response.text)], FORBIDDEN)


# --- the journey ----------------------------------------------------------------------------------------------


def _available(session: DeskSession) -> DeskSession:
    presence = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE)
    session.send(agent_desk_pb2.AgentMessage(presence=presence))
    return session


def _handle_next_offer(agent: DeskSession, reply: bool) -> contact_pb2.ContactEvent:
    offer = agent.next("offer", timeout_s=60)
    trace = offer.traceparent
    agent.send(
        agent_desk_pb2.AgentMessage(accept=agent_desk_pb2.AcceptOffer(offer_id=offer.offer.offer_id), traceparent=trace)
    )
    contact_id = agent.next("assignment").assignment.contact_id
    if reply:
        body = agent_desk_pb2.SendReply(contact_id=contact_id, body_text=AGENT_REPLY)
        agent.send(agent_desk_pb2.AgentMessage(reply=body, traceparent=trace))
    done = agent_desk_pb2.CompleteContact(contact_id=contact_id, disposition="resolved", wrap_up_summary=WRAP_UP)
    agent.send(agent_desk_pb2.AgentMessage(complete=done, traceparent=trace))
    agent.next("contact_closed")
    return offer.offer.contact


def _send_mail(stack: Stack) -> None:
    mail = EmailMessage()
    mail["From"] = f"{EMAIL_NAME} <{EMAIL_ADDRESS}>"
    mail["To"] = "support@example.com"
    mail["Subject"] = EMAIL_SUBJECT
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@pii-probe.example>"
    mail.set_content(EMAIL_BODY)
    with smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=30) as smtp:
        smtp.send_message(mail)


def _send_whatsapp(stack: Stack) -> None:
    notification = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550001", "phone_number_id": "109000000000001"},
                            "contacts": [{"profile": {"name": WHATSAPP_NAME}, "wa_id": WHATSAPP_PHONE}],
                            "messages": [
                                {
                                    "from": WHATSAPP_PHONE,
                                    "id": f"wamid.{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": WHATSAPP_TEXT},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(notification).encode()
    signature = "sha256=" + hmac.new(b"demo-meta-secret", body, hashlib.sha256).hexdigest()
    response = httpx.post(
        f"http://127.0.0.1:{stack.ports.webhook}/webhooks/meta",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _wait_for_reply_mail(stack: Stack, timeout_s: float = 30) -> None:
    """The agent's email reply reaches the customer's mailbox (so the outbound path logged what it logs)."""
    outbox: Path = stack.var_dir / "outbox"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if outbox.exists() and any(
            "marigold" in p.read_text(errors="replace") for p in outbox.rglob("*") if p.is_file()
        ):
            return
        time.sleep(0.3)
    pytest.fail("the agent's reply never reached the mail sink")
