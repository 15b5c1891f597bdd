"""RoutingEvent and FeedbackEvent records as the facts a ServiceLedger keeps (the router and `report` share this)."""

from __future__ import annotations

from enum import Enum

from contactrouting.survey_scales import SCALE_NAMES, ratings
from contactrouting.v1 import feedback_pb2, routing_pb2
from services.router.adapters.contact_mapping import channel_name, primary_language, seconds
from services.router.domain.service_ledger import ServiceLedger
from services.router.domain.service_report import Attribution, Scale, SurveyAnswer

RET = routing_pb2.RoutingEventType


def attribution(agent_id: str, queue: str, channel: int, language: str) -> Attribution:
    """Channel and language as the policy and the metrics name them ("email", "hr")."""
    return Attribution(agent_id, queue, channel_name(channel), primary_language(language))


def absorb_routing_event(ledger: ServiceLedger, event: routing_pb2.RoutingEvent) -> None:
    """QUEUED, REPLY_SENT and COMPLETED are the facts of a report; every other type is ignored."""
    at = seconds(event.occurred_at)
    if event.type == RET.ROUTING_EVENT_TYPE_QUEUED:
        contact = event.contact
        received_at = seconds(contact.received_at) if contact.HasField("received_at") else at
        ledger.queued(event.contact_id, event.conversation_id or contact.conversation_id, received_at, at)
    elif event.type == RET.ROUTING_EVENT_TYPE_REPLY_SENT:
        ledger.replied(event.contact_id, at)
    elif event.type == RET.ROUTING_EVENT_TYPE_COMPLETED:
        ledger.completed(event.contact_id, attribution(event.agent_id, event.queue, event.channel, event.language), at)


def survey_answer(event: feedback_pb2.FeedbackEvent) -> SurveyAnswer | None:
    """The answer, or None for an unknown scale or a rating outside it (the gateway refuses those already)."""
    name = SCALE_NAMES.get(event.scale)
    if name is None or event.rating not in ratings(event.scale) or not event.contact_id:
        return None
    scale = Scale(name)
    return SurveyAnswer(
        survey_id=event.survey_id,
        contact_id=event.contact_id,
        scale=scale,
        rating=event.rating,
        attribution=attribution(event.agent_id, event.queue, event.channel, event.language),
        completed_at=seconds(event.completed_at),
        answered_at=seconds(event.answered_at),
    )


class Absorbed(Enum):
    NEW = "new"
    REPEATED = "repeated"  # the same survey and scale answered before: a redelivered record
    UNUSABLE = "unusable"


def absorb_feedback(ledger: ServiceLedger, event: feedback_pb2.FeedbackEvent) -> Absorbed:
    answer = survey_answer(event)
    if answer is None:
        return Absorbed.UNUSABLE
    return Absorbed.NEW if ledger.answered(answer) else Absorbed.REPEATED
