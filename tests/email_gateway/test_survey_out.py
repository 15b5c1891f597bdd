"""A survey mail through the real gateway and a real SMTP relay: threaded, localized, with working rating links."""

from __future__ import annotations

import re
import smtplib
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoProducer
from contactrouting.survey_tickets import issue_ticket, verify_ticket
from contactrouting.topics import CONTACTS_INBOUND, CONTACTS_OUTBOUND, ensure_topics
from contactrouting.v1 import contact_pb2, feedback_pb2

from .conftest import RunningGateway, messages_of, read_topic, start_gateway
from .relay_sink import Relay

pytestmark = pytest.mark.integration

FEEDBACK_BASE_URL = "https://feedback.example.com/cr"
SECRET = "survey-secret-for-email-tests"


@pytest.fixture(scope="module")
def gateway(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, relay: tuple[Relay, int]
) -> Iterator[RunningGateway]:
    ensure_topics(kafka_bootstrap, partitions=3, replication_factor=1)
    running = start_gateway(
        tmp_path_factory.mktemp("email_gateway_survey"),
        kafka_bootstrap,
        SMTP_RELAY_PORT=str(relay[1]),
        FEEDBACK_BASE_URL=f"{FEEDBACK_BASE_URL}/",
    )
    yield running
    assert running.stop() == 0, running.process.log_tail()


def inbound_contact(gateway: RunningGateway, customer: str, subject: str, body: str) -> contact_pb2.ContactEvent:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = customer, "support@example.com", subject
    mail["Message-ID"] = message_id = f"<{uuid.uuid4().hex}@example.net>"
    mail["Precedence"] = "bulk"  # no acknowledgement: the survey is the only mail the relay gets for this customer
    mail.set_content(body)
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)

    def found(records: list[ConsumedRecord]) -> list[contact_pb2.ContactEvent]:
        events = messages_of(records, contact_pb2.ContactEvent)
        return [e for e in events if e.source.platform_message_id == message_id]

    [event] = found(read_topic(gateway.kafka_bootstrap, CONTACTS_INBOUND, contact_pb2.ContactEvent, found))
    return event


def survey_for(contact: contact_pb2.ContactEvent, *scales: contact_pb2.SurveyScale) -> contact_pb2.OutboundMessage:
    """What the router publishes when a completed contact is due for its survey."""
    ticket = feedback_pb2.SurveyTicket(
        survey_id=str(uuid.uuid4()),
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        agent_id="agent-7",
        queue="general",
        language="hr",
        channel=contact_pb2.CHANNEL_EMAIL,
        scales=list(scales),
        customer_id=contact.customer.customer_id,
    )
    ticket.expires_at.FromSeconds(int(time.time()) + 72 * 3600)
    return contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        channel=contact_pb2.CHANNEL_EMAIL,
        agent_id="agent-7",
        customer=contact.customer,
        subject="Kako smo vam pomogli?",
        body_text="Poštovani,\nhvala što ste nam se obratili.",
        language="hr",
        in_reply_to=contact.source,
        kind=contact_pb2.OUTBOUND_KIND_SURVEY,
        quick_replies=["1", "2", "3", "4", "5"],
        survey=contact_pb2.Survey(
            survey_id=ticket.survey_id,
            scales=list(scales),
            ticket=issue_ticket(ticket, SECRET),
            expires_at=ticket.expires_at,
        ),
    )


def publish(gateway: RunningGateway, message: contact_pb2.OutboundMessage) -> None:
    producer = ProtoProducer(ServiceSettings(kafka_bootstrap_servers=gateway.kafka_bootstrap), client_id="test-router")
    try:
        producer.publish_and_wait(CONTACTS_OUTBOUND, message.conversation_id, message)
    finally:
        producer.close()


def test_a_survey_mail_is_threaded_localized_and_links_every_rating_of_every_scale(
    gateway: RunningGateway, relay: tuple[Relay, int]
) -> None:
    customer = f"survey-{uuid.uuid4().hex[:6]}@example.net"
    contact = inbound_contact(gateway, customer, "Narudžba", "Dobar dan, gdje je moja narudžba?")
    survey = survey_for(contact, contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS)
    publish(gateway, survey)

    sent = relay[0].wait_for(customer)
    message = sent.message
    assert sent.mail_from == "support@example.com"
    assert message["Subject"] == f"Kako smo vam pomogli? [#{contact.source.thread_id}]"
    assert message["In-Reply-To"] == contact.source.platform_message_id
    assert message["Message-ID"] == f"<{survey.message_id}@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content().replace("\r\n", "\n"), html_part.get_content()
    assert text.startswith("Poštovani,\nhvala što ste nam se obratili.\n\nKoliko ste zadovoljni našom pomoći?")

    links = re.findall(r"^  (\d+): (\S+)$", text, re.MULTILINE)
    assert [rating for rating, _ in links] == [*map(str, range(1, 6)), *map(str, range(0, 11))]
    for rating, link in links:
        assert f'href="{link}"' in html.replace("&amp;", "&")
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}{parts.path.rpartition('/')[0]}" == f"{FEEDBACK_BASE_URL}/feedback"
        assert parse_qs(parts.query)["rating"] == [rating]
        # The link carries the router's ticket unchanged: the feedback endpoint can verify and attribute it.
        ticket = verify_ticket(parts.path.rpartition("/")[2], SECRET, time.time())
        assert ticket.contact_id == contact.contact_id and ticket.agent_id == "agent-7"
    assert {parse_qs(urlsplit(link).query)["scale"][0] for _, link in links[:5]} == {"csat"}
    assert {parse_qs(urlsplit(link).query)["scale"][0] for _, link in links[5:]} == {"nps"}
