"""A survey as the router would send it to a Telegram customer, published where the gateway reads it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoProducer
from contactrouting.survey_tickets import issue_ticket
from contactrouting.topics import CONTACTS_OUTBOUND
from contactrouting.v1 import contact_pb2, feedback_pb2


def telegram_survey(
    ticket: feedback_pb2.SurveyTicket, chat_id: int, secret: str, quick_replies: Sequence[str] = ()
) -> contact_pb2.OutboundMessage:
    return contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=ticket.contact_id,
        conversation_id=ticket.conversation_id,
        channel=contact_pb2.CHANNEL_TELEGRAM,
        agent_id="agent-7",
        customer=contact_pb2.Customer(customer_id=ticket.customer_id, handle=str(chat_id)),
        body_text="Kako ste zadovoljni našom pomoći? Odgovorite brojem od 1 do 5.",
        language="hr",
        in_reply_to=contact_pb2.SourceRef(page_id="demo-bot", thread_id=str(chat_id), platform_message_id="41"),
        kind=contact_pb2.OUTBOUND_KIND_SURVEY,
        quick_replies=list(quick_replies),
        survey=contact_pb2.Survey(
            survey_id=ticket.survey_id,
            scales=ticket.scales,
            ticket=issue_ticket(ticket, secret),
            expires_at=ticket.expires_at,
        ),
    )


def publish_outbound(kafka_bootstrap: str, message: contact_pb2.OutboundMessage) -> None:
    producer = ProtoProducer(ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap), client_id="test-router")
    try:
        producer.publish_and_wait(CONTACTS_OUTBOUND, message.conversation_id, message)
    finally:
        producer.close()
