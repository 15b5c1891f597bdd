"""The contact book: a routing event after completion (SURVEY_SENT) joins the history of the archived contact."""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry import trace

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


def traced(contact_id: str, conversation_id: str, span_id: int) -> ContactRecord:
    span = trace.NonRecordingSpan(
        trace.SpanContext(trace_id=span_id, span_id=span_id, is_remote=True, trace_flags=trace.TraceFlags(1))
    )
    event = contact_pb2.ContactEvent(contact_id=contact_id, conversation_id=conversation_id)
    return ContactRecord(event, trace.set_span_in_context(span))


def test_each_conversation_remembers_its_latest_contacts_span_within_a_bound() -> None:
    book = ContactBook(conversation_capacity=2)
    book.add(traced("c-1", "conv-a", 1))
    book.add(traced("c-2", "conv-a", 2))
    book.add(traced("c-3", "conv-b", 3))

    earlier = book.latest_in_conversation("conv-a")
    assert earlier is not None and earlier.span_id == 2
    assert book.latest_in_conversation("conv-new") is None

    book.add(traced("c-4", "conv-c", 4))  # the least recently seen conversation is forgotten
    assert book.latest_in_conversation("conv-a") is None
    assert [book.latest_in_conversation(c).span_id for c in ("conv-b", "conv-c")] == [3, 4]  # type: ignore[union-attr]
