"""The agent's side of a contact's trace: each answer the agent sends is a span of its own process.

The router stamps every offer and assignment with the contact's traceparent. Sending an answer inside a CLIENT
span that is a child of it, and passing that span's traceparent on, puts the agent's process in the trace between
the router's offer and the router's handling of the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import trace

from contactrouting.tracing import context_from_traceparent, current_traceparent
from contactrouting.v1 import agent_desk_pb2

tracer = trace.get_tracer(__name__)

AgentMessage = agent_desk_pb2.AgentMessage
Send = Callable[[AgentMessage], None]


def send_in_trace(send: Send, agent_id: str) -> Send:
    """Wrap `send` so each answer carrying a traceparent is sent inside the agent's span of that trace."""

    def traced_send(message: AgentMessage) -> None:
        action = message.WhichOneof("kind")
        if not message.traceparent or action is None:
            send(message)
            return
        parent = context_from_traceparent(message.traceparent)
        with tracer.start_as_current_span(f"agent {action}", context=parent, kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("agent.id", agent_id)
            subject = getattr(message, action)
            if action in ("accept", "reject"):
                span.set_attribute("routing.offer_id", subject.offer_id)
            else:
                span.set_attribute("contact.id", subject.contact_id)
            message.traceparent = current_traceparent()
            send(message)

    return traced_send
