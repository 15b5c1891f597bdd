"""Replies out through a real SMTP relay: threading headers, acknowledgements, retries and permanent failures."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoProducer
from contactrouting.topics import CONTACTS_INBOUND, CONTACTS_OUTBOUND, ROUTING_EVENTS, ensure_topics
from contactrouting.v1 import contact_pb2, routing_pb2

from .conftest import RunningGateway, messages_of, read_topic, start_gateway
from .relay_sink import Relay

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway_with_relay(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, relay: tuple[Relay, int]
) -> Iterator[RunningGateway]:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    running = start_gateway(
        tmp_path_factory.mktemp("email_gateway_out"),
        kafka_bootstrap,
        SMTP_RELAY_PORT=str(relay[1]),
        EMAIL_SEND_FIRST_RETRY_S="0.2",
        EMAIL_SEND_MAX_ATTEMPTS="4",
    )
    yield running
    assert running.stop() == 0, running.process.log_tail()


def send_inbound(gateway: RunningGateway, sender: str, subject: str, body: str, **headers: str) -> str:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.net>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)
    return str(mail["Message-ID"])


def contact_for(gateway: RunningGateway, message_id: str) -> contact_pb2.ContactEvent:
    def found(records: list[ConsumedRecord]) -> list[contact_pb2.ContactEvent]:
        events = messages_of(records, contact_pb2.ContactEvent)
        return [e for e in events if e.source.platform_message_id == message_id]

    [event] = found(read_topic(gateway.kafka_bootstrap, CONTACTS_INBOUND, contact_pb2.ContactEvent, found))
    return event


def routing_events(gateway: RunningGateway, contact_id: str) -> list[routing_pb2.RoutingEvent]:
    def found(records: list[ConsumedRecord]) -> list[routing_pb2.RoutingEvent]:
        return [e for e in messages_of(records, routing_pb2.RoutingEvent) if e.contact_id == contact_id]

    return found(read_topic(gateway.kafka_bootstrap, ROUTING_EVENTS, routing_pb2.RoutingEvent, found))


def agent_reply(gateway: RunningGateway, contact: contact_pb2.ContactEvent, body: str) -> contact_pb2.OutboundMessage:
    """What the router publishes when an agent answers."""
    created_at = Timestamp()
    created_at.GetCurrentTime()
    reply = contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        channel=contact_pb2.CHANNEL_EMAIL,
        agent_id="agent-7",
        customer=contact.customer,
        subject=f"Re: {contact.subject}",
        body_text=body,
        language=contact.language,
        in_reply_to=contact.source,
        created_at=created_at,
        kind=contact_pb2.OUTBOUND_KIND_AGENT_REPLY,
    )
    producer = ProtoProducer(ServiceSettings(kafka_bootstrap_servers=gateway.kafka_bootstrap), client_id="test-router")
    try:
        producer.publish_and_wait(CONTACTS_OUTBOUND, reply.conversation_id, reply)
    finally:
        producer.close()
    return reply


def test_a_new_conversation_gets_a_localized_rfc3834_acknowledgement_through_the_relay(
    gateway_with_relay: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"ack-{uuid.uuid4().hex[:6]}@example.net"
    message_id = send_inbound(
        gateway_with_relay, f"Ivana Kupac <{customer}>", "Račun", "Dobar dan, račun za ovaj mjesec nije točan."
    )
    contact = contact_for(gateway_with_relay, message_id)
    mail = relay[0].wait_for(customer)
    assert mail.mail_from == "<>" or mail.mail_from == ""  # null reverse-path: bounces of an ack go nowhere
    assert mail.message["From"] == "support@example.com"
    assert mail.message["To"] == f"Ivana Kupac <{customer}>"
    assert mail.message["Subject"] == f"Zaprimili smo vašu poruku: Račun [#{contact.source.thread_id}]"
    assert mail.message["Auto-Submitted"] == "auto-replied"
    assert mail.message["In-Reply-To"] == message_id
    assert mail.message["References"] == message_id
    body = mail.message.get_content()
    assert "u roku od 24 h" in body and f"#{contact.source.thread_id}" in body


def test_an_agent_reply_is_threaded_and_the_customers_answer_joins_the_conversation(
    gateway_with_relay: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"reply-{uuid.uuid4().hex[:6]}@example.net"
    first_id = send_inbound(gateway_with_relay, customer, "Order missing", "My order has not arrived yet.")
    contact = contact_for(gateway_with_relay, first_id)
    relay[0].wait_for(customer)  # the acknowledgement
    reply = agent_reply(gateway_with_relay, contact, "Your parcel ships today.")

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = relay[0].wait_for(customer)
        if sent.message["Auto-Submitted"] is None:
            break
        time.sleep(0.1)
    assert sent.mail_from == "support@example.com"
    assert sent.message["Subject"] == f"Re: Order missing [#{contact.source.thread_id}]"
    assert sent.message["In-Reply-To"] == first_id and sent.message["References"] == first_id
    assert sent.message["Message-ID"] == f"<{reply.message_id}@example.com>"
    assert sent.message.get_content().strip() == "Your parcel ships today."

    answer_id = send_inbound(
        gateway_with_relay,
        customer,
        "Re: Order missing",
        "Thanks, got it.",
        In_Reply_To=str(sent.message["Message-ID"]),
    )
    assert contact_for(gateway_with_relay, answer_id).conversation_id == contact.conversation_id
    events = routing_events(gateway_with_relay, contact.contact_id)
    assert [(e.type, e.agent_id, e.attempt) for e in events] == [
        (routing_pb2.ROUTING_EVENT_TYPE_REPLY_SENT, "agent-7", 1)
    ]


def test_a_temporary_relay_failure_is_retried_with_backoff(
    gateway_with_relay: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"flaky@{uuid.uuid4().hex[:6]}.example.net"
    # Auto-Submitted keeps the acknowledgement away, so the relay's refusals all meet the agent's reply.
    contact = contact_for(
        gateway_with_relay,
        send_inbound(gateway_with_relay, customer, "Hi", "Please call me.", Auto_Submitted="auto-generated"),
    )
    agent_reply(gateway_with_relay, contact, "We will call you.")
    assert relay[0].wait_for(customer).message.get_content().strip() == "We will call you."
    events = routing_events(gateway_with_relay, contact.contact_id)
    assert [(e.type, e.attempt) for e in events] == [(routing_pb2.ROUTING_EVENT_TYPE_REPLY_SENT, 3)]


def test_a_permanent_failure_is_recorded_as_delivery_failed_without_retrying(
    gateway_with_relay: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"gone@{uuid.uuid4().hex[:6]}.example.net"
    # Precedence: bulk keeps the acknowledgement away, so the one refusal the relay counts is the agent's reply.
    contact = contact_for(
        gateway_with_relay, send_inbound(gateway_with_relay, customer, "Hi", "Where is my refund?", Precedence="bulk")
    )
    agent_reply(gateway_with_relay, contact, "Refund sent.")
    [failed] = routing_events(gateway_with_relay, contact.contact_id)
    assert failed.type == routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED
    assert failed.reason.startswith("agent_reply: SMTP 550 5.1.1")
    assert failed.attempt == 1 and failed.agent_id == "agent-7"
    assert failed.conversation_id == contact.conversation_id and failed.customer_id == contact.customer.customer_id
    assert relay[0].attempts[customer] == 1


def test_a_later_bounce_of_a_sent_reply_becomes_delivery_failed_not_a_contact(
    gateway_with_relay: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"bounce-{uuid.uuid4().hex[:6]}@example.net"
    contact = contact_for(
        gateway_with_relay, send_inbound(gateway_with_relay, customer, "Hi", "Where is my parcel?", Precedence="bulk")
    )
    reply = agent_reply(gateway_with_relay, contact, "It is on its way.")
    sent_id = str(relay[0].wait_for(customer).message["Message-ID"])
    assert sent_id == f"<{reply.message_id}@example.com>"

    dsn_id = f"<dsn-{uuid.uuid4().hex}@mx.example.org>"
    dsn = (
        f"From: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\nSubject: Undelivered Mail\r\n"
        f"Message-ID: {dsn_id}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {customer}\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent_id}\r\n\r\n--b--\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", gateway_with_relay.smtp_port, timeout=30) as smtp:
        smtp.sendmail("", ["support@example.com"], dsn)

    def recorded(records: list[ConsumedRecord]) -> list[routing_pb2.RoutingEvent]:
        events = messages_of(records, routing_pb2.RoutingEvent)
        return [e for e in events if e.contact_id == contact.contact_id and e.reason.startswith("bounce")]

    [failed] = recorded(
        read_topic(gateway_with_relay.kafka_bootstrap, ROUTING_EVENTS, routing_pb2.RoutingEvent, recorded)
    )
    assert failed.type == routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED
    assert failed.conversation_id == contact.conversation_id
    assert failed.reason == "bounce: 5.2.2 smtp; 552 5.2.2 mailbox full"
    contacts = read_topic(
        gateway_with_relay.kafka_bootstrap, CONTACTS_INBOUND, contact_pb2.ContactEvent, lambda _: False, 2
    )
    assert not [e for e in messages_of(contacts, contact_pb2.ContactEvent) if e.source.platform_message_id == dsn_id]


def test_a_survey_without_feedback_base_url_is_recorded_as_delivery_failed_not_dropped(
    gateway_with_relay: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"survey-{uuid.uuid4().hex[:6]}@example.net"
    contact = contact_for(
        gateway_with_relay, send_inbound(gateway_with_relay, customer, "Hi", "Thanks for the help.", Precedence="bulk")
    )
    survey = contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        channel=contact_pb2.CHANNEL_EMAIL,
        agent_id="agent-7",
        customer=contact.customer,
        subject="How did we do?",
        body_text="Please rate our help.",
        language="en",
        in_reply_to=contact.source,
        kind=contact_pb2.OUTBOUND_KIND_SURVEY,
        survey=contact_pb2.Survey(survey_id="s-1", scales=[contact_pb2.SURVEY_SCALE_CSAT], ticket="t.sig"),
    )
    producer = ProtoProducer(ServiceSettings(kafka_bootstrap_servers=gateway_with_relay.kafka_bootstrap), client_id="t")
    try:
        producer.publish_and_wait(CONTACTS_OUTBOUND, survey.conversation_id, survey)
    finally:
        producer.close()
    [failed] = routing_events(gateway_with_relay, contact.contact_id)
    assert failed.type == routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED
    assert failed.reason == "survey: FEEDBACK_BASE_URL is not set: no rating links"
    assert failed.agent_id == "agent-7" and failed.customer_id == contact.customer.customer_id
    assert customer not in relay[0].attempts
