"""The agent's answers are spans of the contact's trace, made in the agent's own process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contactrouting.v1 import agent_desk_pb2
from services.router.agent_client.desk_trace import send_in_trace

OFFER_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
AgentMessage = agent_desk_pb2.AgentMessage


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def test_an_accept_is_sent_inside_a_child_span_of_the_offer(exported: InMemorySpanExporter) -> None:
    sent: list[AgentMessage] = []
    send = send_in_trace(sent.append, "ana")

    send(AgentMessage(accept=agent_desk_pb2.AcceptOffer(offer_id="o-1"), traceparent=OFFER_TRACEPARENT))

    [span] = [s for s in exported.get_finished_spans() if s.name == "agent accept"]
    assert span.kind is trace.SpanKind.CLIENT
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None and format(span.parent.span_id, "016x") == "b7ad6b7169203331"
    assert dict(span.attributes or {}) == {"agent.id": "ana", "routing.offer_id": "o-1"}
    # The router sees the agent's span as the parent of its own handling of the accept.
    assert sent[0].traceparent == f"00-0af7651916cd43dd8448eb211c80319c-{span.context.span_id:016x}-01"


def test_replies_and_completions_name_their_contact(exported: InMemorySpanExporter) -> None:
    send = send_in_trace(lambda message: None, "ana")

    send(AgentMessage(reply=agent_desk_pb2.SendReply(contact_id="c-1", body_text="Hi"), traceparent=OFFER_TRACEPARENT))
    send(AgentMessage(complete=agent_desk_pb2.CompleteContact(contact_id="c-1"), traceparent=OFFER_TRACEPARENT))

    spans = {s.name: dict(s.attributes or {}) for s in exported.get_finished_spans()}
    assert spans["agent reply"] == {"agent.id": "ana", "contact.id": "c-1"}
    assert spans["agent complete"] == {"agent.id": "ana", "contact.id": "c-1"}


def test_messages_outside_any_trace_are_sent_as_they_are(exported: InMemorySpanExporter) -> None:
    sent: list[AgentMessage] = []
    presence = AgentMessage(presence=agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE))

    send_in_trace(sent.append, "ana")(presence)

    assert sent == [presence]
    assert not exported.get_finished_spans()
