"""A planned survey as the records that carry it: its signed ticket's content, the OutboundMessage on the contact's
channel, and the SURVEY_SENT routing event."""

from __future__ import annotations

import uuid

from contactrouting.survey_scales import scale_named
from contactrouting.v1 import contact_pb2, feedback_pb2, routing_pb2
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.contact_mapping import channel_name, primary_language, timestamp
from services.router.domain.surveys import CompletedContact, SurveyContent

RET = routing_pb2.RoutingEventType


def survey_scales(names: tuple[str, ...]) -> list[contact_pb2.SurveyScale]:
    """The policy's scale names ("csat", "nps"; validated there) as the contract's enum values."""
    scales = [scale for name in names if (scale := scale_named(name)) is not None]
    if len(scales) != len(names):
        raise ValueError(f"unknown survey scale in {names}")
    return scales


def completed_contact(record: ContactRecord, agent_id: str, completed_at: float) -> CompletedContact:
    event = record.event
    return CompletedContact(
        contact_id=event.contact_id,
        customer_id=event.customer.customer_id,
        channel=channel_name(event.channel),
        language=primary_language(event.language),
        queue=record.queue,
        agent_id=agent_id,
        completed_at=completed_at,
    )


def survey_ticket(survey: SurveyContent, record: ContactRecord) -> feedback_pb2.SurveyTicket:
    """What the survey is about, for whoever collects the answer to attribute it without a lookup."""
    contact = record.event
    return feedback_pb2.SurveyTicket(
        survey_id=survey.survey_id,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        agent_id=survey.contact.agent_id,
        queue=survey.contact.queue,
        language=contact.language,
        channel=contact.channel,
        scales=survey_scales(survey.scales),
        expires_at=timestamp(survey.expires_at),
        customer_id=contact.customer.customer_id,
        completed_at=timestamp(survey.contact.completed_at),
    )


def survey_outbound(survey: SurveyContent, record: ContactRecord, ticket: str) -> contact_pb2.OutboundMessage:
    """The survey on the contact's own channel, answering its first message so that an email threads."""
    contact = record.event
    return contact_pb2.OutboundMessage(
        # The survey's id: a survey sent again after a crash is the same message, which the gateways deduplicate.
        message_id=survey.survey_id,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        channel=contact.channel,
        agent_id=survey.contact.agent_id,
        customer=contact.customer,
        subject=survey.subject,
        body_text=survey.body_text,
        language=contact.language,
        in_reply_to=contact.source,
        created_at=timestamp(survey.sent_at),
        kind=contact_pb2.OUTBOUND_KIND_SURVEY,
        quick_replies=survey.quick_replies,
        survey=contact_pb2.Survey(
            survey_id=survey.survey_id,
            scales=survey_scales(survey.scales),
            ticket=ticket,
            expires_at=timestamp(survey.expires_at),
        ),
    )


def survey_sent_event(survey: SurveyContent, record: ContactRecord) -> routing_pb2.RoutingEvent:
    """SURVEY_SENT: the contact's survey went out; recovery rebuilds the once-per-customer cap from these."""
    contact = record.event
    return routing_pb2.RoutingEvent(
        event_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        type=RET.ROUTING_EVENT_TYPE_SURVEY_SENT,
        occurred_at=timestamp(survey.sent_at),
        agent_id=survey.contact.agent_id,
        queue=record.queue,
        priority=record.priority,
        channel=contact.channel,
        language=contact.language,
        customer_id=contact.customer.customer_id,
        sla_deadline=timestamp(record.sla_deadline),
    )
