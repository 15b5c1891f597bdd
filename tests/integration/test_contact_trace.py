"""One trace per contact across the real services: a mail over SMTP and a signed Telegram webhook go through the
gateways, Kafka, the router and a scripted agent process (`agent-client --auto`) that accepts, replies and
completes; the agent's reply goes back out through the gateway. The spans every process exported (JSON lines under
the stack's TRACE_DIR) are then checked: one trace id per contact over gateway, router and agent, the parent of
every hop, the attributes operators search by, span links between the messages of one conversation, and no PII.
"""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from opentelemetry import trace

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from devstack.stack import REPO_ROOT, Stack, StackPorts

from .customers import send_telegram

pytestmark = pytest.mark.integration

AGENT = "emma.wilson"
CUSTOMER_ADDRESS = "trace.probe.customer@journey-probe.example"
MAIL_BODY = "Hello, the parcel with my green teapot has not arrived yet. Could you check where it is?"
FOLLOW_UP_BODY = "Hello again, the green teapot is still missing. Any news about the parcel?"
TELEGRAM_TEXT = "Hello, I cannot log in to the mobile app since yesterday, can you help me?"
FOLLOW_UP_TEXT = "Hello again, the login into the mobile app still fails today, please help."
# Attributes operators search by (issue: contact, conversation, channel, language, queue; step, agent, decision).
CONTACT_ATTRIBUTES = {"contact.id", "conversation.id", "contact.channel", "contact.language", "contact.queue"}
DECISION_ATTRIBUTES = {"routing.relaxation_step", "agent.id", "routing.decision_summary"}

Span = dict


@dataclass(frozen=True)
class Journey:
    stack: Stack
    contacts: dict[str, contact_pb2.ContactEvent]  # by label: mail, mail_follow_up, telegram, telegram_follow_up
    trace_ids: dict[str, str]
    spans: list[Span]

    def trace(self, label: str) -> list[Span]:
        return [span for span in self.spans if span["trace_id"] == self.trace_ids[label]]


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    stack = Stack(tmp_path_factory.mktemp("trace"), StackPorts.free())
    agent: subprocess.Popen[bytes] | None = None
    try:
        stack.start()
        agent = _start_agent(stack)
        token = uuid.uuid4().hex[:10]
        first_mail_id = _send_mail(stack, f"Green teapot parcel {token}", MAIL_BODY)
        chat_id = send_telegram(stack, TELEGRAM_TEXT)
        contacts, trace_ids = _published(stack, {"mail": MAIL_BODY, "telegram": TELEGRAM_TEXT})
        # The follow-ups are sent once the first contacts were handled, as customers write again later.
        _wait_for_spans(stack, lambda spans: _sent_out(spans, contacts.values()), agent)
        _send_mail(stack, f"Re: Green teapot parcel {token}", FOLLOW_UP_BODY, in_reply_to=first_mail_id)
        send_telegram(stack, FOLLOW_UP_TEXT, chat_id=chat_id)
        more, more_traces = _published(stack, {"mail_follow_up": FOLLOW_UP_BODY, "telegram_follow_up": FOLLOW_UP_TEXT})
        contacts.update(more)
        trace_ids.update(more_traces)
        spans = _wait_for_spans(stack, lambda spans: _sent_out(spans, contacts.values()), agent)
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=15)  # the agent flushes its spans on the way out
        spans = _read_spans(stack)
        yield Journey(stack, contacts, trace_ids, spans)
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        stack.stop()


@pytest.mark.parametrize(("label", "gateway"), [("mail", "email_gateway"), ("telegram", "social_gateway")])
def test_one_trace_id_spans_gateway_router_and_agent(journey: Journey, label: str, gateway: str) -> None:
    services = {span["service"] for span in journey.trace(label)}

    assert {gateway, "router", "agent_client"} <= services, _tree(journey.trace(label))


@pytest.mark.parametrize(
    ("label", "receive", "send"),
    [("mail", "email receive", "email send"), ("telegram", "POST /webhooks/telegram/{bot_id}", "social send")],
)
def test_every_hop_is_the_child_of_the_one_before(journey: Journey, label: str, receive: str, send: str) -> None:
    spans = journey.trace(label)
    tree = _tree(spans)
    by_id = {span["span_id"]: span for span in spans}

    def parent(span: Span) -> Span | None:
        return by_id.get(span["parent_span_id"] or "")

    def one(service: str, name: str) -> Span:
        found = [s for s in spans if s["service"] == service and s["name"] == name]
        assert len(found) == 1, f"{service} {name!r}: {len(found)} spans\n{tree}"
        return found[0]

    gateway = "email_gateway" if label == "mail" else "social_gateway"
    received = one(gateway, receive)
    assert received["kind"] == "SERVER" and received["parent_span_id"] is None, tree
    inbound = one(gateway, "contacts.inbound publish")
    assert _is_ancestor(received, inbound, parent), tree
    enqueued = one("router", "router enqueue")
    assert parent(enqueued) == inbound and enqueued["kind"] == "CONSUMER", tree
    matched = one("router", "router match")
    # "waiting" when the agent was busy with the other contact's offer: then the agent pulls it a moment later.
    assert parent(matched) == enqueued and matched["attributes"]["routing.outcome"] in ("offered", "waiting"), tree
    offered = one("router", "router offer")
    assert _is_ancestor(enqueued, offered, parent), tree

    agent_accept = one("agent_client", "agent accept")
    assert parent(agent_accept) == offered and agent_accept["kind"] == "CLIENT", tree
    router_accept = one("router", "agent accept")
    assert parent(router_accept) == agent_accept and router_accept["kind"] == "SERVER", tree

    router_reply = one("router", "agent reply")
    assert parent(router_reply) == one("agent_client", "agent reply"), tree
    outbound = one("router", "contacts.outbound publish")
    assert parent(outbound) == router_reply, tree
    # The agent's reply goes out as a child of the router's publish (a mail's acknowledgement is a send of its own).
    sent = [s for s in spans if s["service"] == gateway and s["name"] == send and parent(s) == outbound]
    assert len(sent) == 1 and sent[0]["kind"] == "CLIENT", tree


@pytest.mark.parametrize("label", ["mail", "telegram"])
def test_spans_carry_what_operators_search_by(journey: Journey, label: str) -> None:
    contact = journey.contacts[label]
    spans = journey.trace(label)
    enqueued = next(s for s in spans if s["name"] == "router enqueue")
    offered = next(s for s in spans if s["name"] == "router offer")

    for span in (enqueued, offered):
        attributes = span["attributes"]
        assert attributes.keys() >= CONTACT_ATTRIBUTES, span
        assert attributes["contact.id"] == contact.contact_id
        assert attributes["conversation.id"] == contact.conversation_id
        assert (
            attributes["contact.channel"] == contact_pb2.Channel.Name(contact.channel).removeprefix("CHANNEL_").lower()
        )
        assert attributes["contact.language"] == contact.language == "en"
        assert attributes["contact.queue"] == contact.queue == "general"
    gateway_span = next(s for s in spans if s["name"] in ("email receive", "telegram message"))
    assert {k: gateway_span["attributes"][k] for k in ("contact.id", "contact.language", "contact.queue")} == {
        "contact.id": contact.contact_id,
        "contact.language": "en",
        "contact.queue": "general",
    }
    decision = offered["attributes"]
    assert decision.keys() >= DECISION_ATTRIBUTES, offered
    assert decision["agent.id"] == AGENT
    assert decision["routing.relaxation_step"] == "base"
    # A contact finding an agent, or an agent pulling the contact when it frees up: either way, the reason.
    assert decision["routing.decision_summary"].startswith(("best proficiency fit", "agent freed capacity", "sticky"))


@pytest.mark.parametrize(("label", "earlier"), [("mail_follow_up", "mail"), ("telegram_follow_up", "telegram")])
def test_a_conversation_links_its_contacts(journey: Journey, label: str, earlier: str) -> None:
    """A customer's whole journey is found from any of its contacts: each new one links to the one before."""
    first, later = journey.contacts[earlier], journey.contacts[label]
    assert later.conversation_id == first.conversation_id and later.contact_id != first.contact_id
    enqueued = next(s for s in journey.trace(label) if s["name"] == "router enqueue")

    assert journey.trace_ids[earlier] in {link["trace_id"] for link in enqueued["links"]}, enqueued
    # ...and the first contact of a conversation links to nothing.
    first_enqueued = next(s for s in journey.trace(earlier) if s["name"] == "router enqueue")
    assert first_enqueued["links"] == []


def test_no_body_text_or_address_in_any_span(journey: Journey) -> None:
    exported = "\n".join(json.dumps(span) for span in journey.spans)
    assert {span["service"] for span in journey.spans} >= {"email_gateway", "social_gateway", "router", "agent_client"}

    for secret in (CUSTOMER_ADDRESS, "trace.probe.customer", MAIL_BODY, "green teapot", TELEGRAM_TEXT, "mobile app"):
        assert secret not in exported


# --- the journey ----------------------------------------------------------------------------------------------


def _start_agent(stack: Stack) -> subprocess.Popen[bytes]:
    log_path = stack.var_dir / "logs" / "agent_client.log"
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "services.router.agent_client", "--agent", AGENT, "--auto"),
                *("--think-time", "0.3", "--target", f"127.0.0.1:{stack.ports.router_grpc}"),
                *("--reply", "Thank you, it is on its way."),
            ],
            cwd=REPO_ROOT,
            env=stack.common_env(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def _send_mail(stack: Stack, subject: str, body: str, in_reply_to: str | None = None) -> str:
    message_id = f"<{uuid.uuid4().hex}@journey-probe.example>"
    mail = EmailMessage()
    mail["From"] = f"Trace Probe <{CUSTOMER_ADDRESS}>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    mail.set_content(body)
    with smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=30) as smtp:
        smtp.send_message(mail)
    return message_id


def _published(
    stack: Stack, texts: dict[str, str], timeout_s: float = 30.0
) -> tuple[dict[str, contact_pb2.ContactEvent], dict[str, str]]:
    """The ContactEvents whose new text is each of `texts`, and the trace id each carries in its headers."""
    consumer = ProtoConsumer(
        ServiceSettings(kafka_bootstrap_servers=stack.kafka_bootstrap),
        {CONTACTS_INBOUND: contact_pb2.ContactEvent},
        client_id="trace-test",
        subscribe=False,
    )
    consumer.assign_from_beginning()
    contacts: dict[str, contact_pb2.ContactEvent] = {}
    trace_ids: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(contacts) < len(texts) and time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=300):
                event = record.message
                for label, text in texts.items():
                    if isinstance(event, contact_pb2.ContactEvent) and event.body_text.strip() == text:
                        contacts[label] = event
                        span_context = trace.get_current_span(record.context).get_span_context()
                        trace_ids[label] = format(span_context.trace_id, "032x")
    finally:
        consumer.close()
    assert contacts.keys() == texts.keys(), f"published: {sorted(contacts)} of {sorted(texts)}"
    return contacts, trace_ids


def _read_spans(stack: Stack) -> list[Span]:
    return [
        json.loads(line)
        for path in sorted((stack.var_dir / "traces").glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def _sent_out(spans: list[Span], contacts: object) -> bool:
    """Every contact's reply went out (a gateway send span), and the agent exported its completion."""
    ids = {contact.contact_id for contact in contacts}  # type: ignore[attr-defined]
    sent = {s["attributes"].get("contact.id") for s in spans if s["name"] in ("email send", "social send")}
    completed = {s["attributes"].get("contact.id") for s in spans if s["name"] == "agent complete"}
    return ids <= sent and ids <= completed


def _wait_for_spans(
    stack: Stack, done: Callable[[list[Span]], bool], agent: subprocess.Popen[bytes], timeout_s: float = 60.0
) -> list[Span]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        spans = _read_spans(stack)
        if done(spans):
            return spans
        assert agent.poll() is None, (stack.var_dir / "logs" / "agent_client.log").read_text()
        time.sleep(0.3)
    raise AssertionError(f"the journey did not complete in {timeout_s:.0f} s\n{_tree(_read_spans(stack))}")


def _is_ancestor(ancestor: Span, span: Span, parent: Callable[[Span], Span | None]) -> bool:
    current: Span | None = span
    while current is not None:
        if current is ancestor:
            return True
        current = parent(current)
    return False


def _tree(spans: list[Span]) -> str:
    """The spans as an indented tree, for failure messages."""
    children: dict[str | None, list[Span]] = {}
    ids = {span["span_id"] for span in spans}
    for span in sorted(spans, key=lambda s: s["start_ns"]):
        children.setdefault(span["parent_span_id"] if span["parent_span_id"] in ids else None, []).append(span)
    lines: list[str] = []

    def walk(parent_id: str | None, depth: int) -> None:
        for span in children.get(parent_id, []):
            lines.append(f"{'  ' * depth}{span['service']}: {span['name']} [{span['kind']}]")
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    return "\n".join(lines)
