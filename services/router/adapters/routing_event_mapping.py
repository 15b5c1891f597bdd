"""Domain events as RoutingEvent records for `routing.events`: the durable, explainable lifecycle of a contact."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from contactrouting.v1 import routing_pb2
from services.router.adapters.contact_mapping import timestamp
from services.router.domain import (
    ContactAbandoned,
    ContactAssigned,
    ContactCompleted,
    ContactEscalated,
    ContactQueued,
    ContactRequeued,
    Decision,
    DomainEvent,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OfferRescinded,
    OfferTimedOut,
)

if TYPE_CHECKING:
    from services.router.adapters.contact_book import ContactRecord

RET = routing_pb2.RoutingEventType

_TYPES: dict[type, int] = {
    ContactQueued: RET.ROUTING_EVENT_TYPE_QUEUED,
    OfferMade: RET.ROUTING_EVENT_TYPE_OFFERED,
    OfferAccepted: RET.ROUTING_EVENT_TYPE_ACCEPTED,
    ContactAssigned: RET.ROUTING_EVENT_TYPE_ASSIGNED,
    OfferRejected: RET.ROUTING_EVENT_TYPE_REJECTED,
    OfferTimedOut: RET.ROUTING_EVENT_TYPE_OFFER_TIMED_OUT,
    OfferRescinded: RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED,
    ContactRequeued: RET.ROUTING_EVENT_TYPE_REQUEUED,
    ContactEscalated: RET.ROUTING_EVENT_TYPE_ESCALATED,
    ContactCompleted: RET.ROUTING_EVENT_TYPE_COMPLETED,
    ContactAbandoned: RET.ROUTING_EVENT_TYPE_ABANDONED,
}


def decision_record(decision: Decision) -> routing_pb2.DecisionRecord:
    return routing_pb2.DecisionRecord(
        candidates_considered=decision.candidates_considered,
        filtered_out=[
            routing_pb2.FilterCount(reason=reason, count=count)
            for reason, count in sorted(decision.filtered_out.items())
        ],
        chosen_agent_id=decision.chosen_agent_id,
        score=decision.score,
        score_components=[
            routing_pb2.ScoreComponent(name=name, value=value) for name, value in decision.score_components.items()
        ],
        relaxation_step=decision.relaxation_step,
        summary=decision.summary,
    )


def is_contact_event(event: DomainEvent) -> bool:
    return type(event) in _TYPES


def routing_event(event: DomainEvent, record: ContactRecord) -> routing_pb2.RoutingEvent:
    """The RoutingEvent for a contact's domain event; `record` must already have absorbed it."""
    contact = record.event
    message = routing_pb2.RoutingEvent(
        event_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        type=_TYPES[type(event)],  # type: ignore[arg-type]
        occurred_at=timestamp(event.occurred_at),
        queue=record.queue,
        priority=record.priority,
        channel=contact.channel,
        language=contact.language,
        customer_id=contact.customer.customer_id,
        sla_deadline=timestamp(record.sla_deadline),
    )
    message.decision.CopyFrom(record.decision)
    match event:
        case ContactQueued():
            message.contact.CopyFrom(contact)
        case OfferMade(offer_id=offer_id, agent_id=agent_id, attempt=attempt, needs_translation=needs_translation):
            message.offer_id, message.agent_id, message.attempt = offer_id, agent_id, attempt
            message.needs_translation = needs_translation
        case OfferAccepted(offer_id=offer_id, agent_id=agent_id):
            message.offer_id, message.agent_id = offer_id, agent_id
        case ContactAssigned(agent_id=agent_id):
            message.agent_id = agent_id
            message.offer_id = record.offer_id
        case (
            OfferRejected(offer_id=offer_id, agent_id=agent_id, reason=reason)
            | OfferRescinded(offer_id=offer_id, agent_id=agent_id, reason=reason)
        ):
            message.offer_id, message.agent_id, message.reason = offer_id, agent_id, reason
        case OfferTimedOut(offer_id=offer_id, agent_id=agent_id):
            message.offer_id, message.agent_id, message.reason = offer_id, agent_id, "offer_timeout"
        case ContactRequeued(reason=reason, agent_id=agent_id):
            message.reason, message.agent_id = reason, agent_id
        case ContactEscalated(reason=reason) | ContactAbandoned(reason=reason):
            message.reason = reason
        case ContactCompleted(agent_id=agent_id, disposition=disposition, summary=summary):
            message.agent_id, message.disposition, message.wrap_up_summary = agent_id, disposition, summary
    return message
