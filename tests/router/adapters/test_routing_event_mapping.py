"""Domain events become RoutingEvents: what an offer records beyond the common fields."""

from __future__ import annotations

from opentelemetry import context as otel_context

from contactrouting.v1 import contact_pb2, routing_pb2
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.routing_event_mapping import routing_event
from services.router.domain import ContactAbandoned, Decision, OfferMade

DECISION = Decision(3, {"language": 2}, "ana", 31.0, {"proficiency": 30.0}, "fallback_language", "fallback to en")


def test_an_offer_across_languages_records_that_it_needs_translation() -> None:
    record = ContactRecord(contact_pb2.ContactEvent(contact_id="c-1", language="sl"), otel_context.Context())
    offer = OfferMade("o-1", "c-1", "ana", 20.0, DECISION, needs_translation=True, occurred_at=1.0, attempt=2)
    record.absorb(offer)

    event = routing_event(offer, record)

    assert event.type == routing_pb2.ROUTING_EVENT_TYPE_OFFERED
    assert (event.offer_id, event.agent_id, event.attempt, event.needs_translation) == ("o-1", "ana", 2, True)
    assert event.decision.relaxation_step == "fallback_language"
    plain = routing_event(OfferMade("o-2", "c-1", "ana", 20.0, DECISION, False, 1.0), record)
    assert not plain.needs_translation


def test_an_abandoned_contact_records_why() -> None:
    record = ContactRecord(
        contact_pb2.ContactEvent(contact_id="c-2", channel=contact_pb2.CHANNEL_MESSENGER), otel_context.Context()
    )

    event = routing_event(ContactAbandoned("c-2", "general", "reply_window_closed", 2.0), record)

    assert (event.type, event.reason) == (routing_pb2.ROUTING_EVENT_TYPE_ABANDONED, "reply_window_closed")
