"""The contact book: a routing event after completion (SURVEY_SENT) joins the history of the archived contact."""

from __future__ import annotations

from opentelemetry import context as otel_context

from contactrouting.v1 import contact_pb2, routing_pb2
from services.router.adapters.contact_book import ContactBook, ContactRecord

RET = routing_pb2.RoutingEventType


def test_survey_sent_after_completion_stays_in_the_closed_contacts_history() -> None:
    book = ContactBook()
    book.add(ContactRecord(contact_pb2.ContactEvent(contact_id="c-1"), otel_context.Context()))
    for kind in (RET.ROUTING_EVENT_TYPE_QUEUED, RET.ROUTING_EVENT_TYPE_ACCEPTED, RET.ROUTING_EVENT_TYPE_COMPLETED):
        book.record(routing_pb2.RoutingEvent(contact_id="c-1", type=kind, agent_id="a-1"))
    assert book.open_record("c-1") is None

    archived = book.record(routing_pb2.RoutingEvent(contact_id="c-1", type=RET.ROUTING_EVENT_TYPE_SURVEY_SENT))

    assert archived is not None and archived is book.get("c-1")
    assert archived.state == "completed" and archived.agent_id == "a-1"
    assert archived.history[-1].type == RET.ROUTING_EVENT_TYPE_SURVEY_SENT
    assert len(book) == 0, "a survey does not reopen the contact"
