"""What the adapters remember per contact beside the engine: the original event, its trace and its history."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry import trace

from contactrouting.v1 import contact_pb2, routing_pb2
from services.router.adapters.contact_mapping import seconds
from services.router.adapters.routing_event_mapping import decision_record
from services.router.domain import ContactEscalated, ContactQueued, DomainEvent, OfferMade

RET = routing_pb2.RoutingEventType

# The ExplainContact state reached after each routing event type; other types leave the state as it was.
_STATE_AFTER: dict[int, str] = {
    RET.ROUTING_EVENT_TYPE_QUEUED: "waiting",
    RET.ROUTING_EVENT_TYPE_OFFERED: "offered",
    RET.ROUTING_EVENT_TYPE_REJECTED: "waiting",
    RET.ROUTING_EVENT_TYPE_OFFER_TIMED_OUT: "waiting",
    RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED: "waiting",
    RET.ROUTING_EVENT_TYPE_REQUEUED: "waiting",
    RET.ROUTING_EVENT_TYPE_ACCEPTED: "assigned",
    RET.ROUTING_EVENT_TYPE_ASSIGNED: "assigned",
    RET.ROUTING_EVENT_TYPE_COMPLETED: "completed",
    RET.ROUTING_EVENT_TYPE_ABANDONED: "abandoned",
}
CLOSED_STATES = frozenset({"completed", "abandoned"})


@dataclass
class ContactRecord:
    """One contact as the adapters see it: enough to build offers, replies and its explanation."""

    event: contact_pb2.ContactEvent
    # The contact's trace: offers and routing events for it are spans of this trace.
    context: otel_context.Context
    queue: str = ""
    priority: int = 0
    sla_deadline: float = 0.0
    decision: routing_pb2.DecisionRecord = field(default_factory=routing_pb2.DecisionRecord)
    state: str = "waiting"
    agent_id: str = ""
    offer_id: str = ""
    history: list[routing_pb2.RoutingEvent] = field(default_factory=list)

    @property
    def contact_id(self) -> str:
        return self.event.contact_id

    @property
    def received_at(self) -> float:
        """When the customer's message arrived (the first history entry's time if the gateway gave none)."""
        if self.event.HasField("received_at"):
            return seconds(self.event.received_at)
        return seconds(self.history[0].occurred_at) if self.history else 0.0

    @property
    def trace_id(self) -> int:
        return trace.get_current_span(self.context).get_span_context().trace_id

    def absorb(self, event: DomainEvent) -> None:
        """Keep what later routing events and offers repeat: queue, priority, SLA and the latest decision."""
        if isinstance(event, ContactQueued):
            self.queue, self.priority, self.sla_deadline = event.queue, event.priority, event.sla_deadline
            self.decision = routing_pb2.DecisionRecord(
                relaxation_step=event.relaxation_step, summary=f"queued in {event.queue}; waiting for an agent"
            )
        elif isinstance(event, ContactEscalated):
            self.priority = event.priority
        elif isinstance(event, OfferMade):
            self.decision = decision_record(event.decision)

    def record(self, event: routing_pb2.RoutingEvent) -> None:
        self.history.append(event)
        self.state = _STATE_AFTER.get(event.type, self.state)
        if event.type == RET.ROUTING_EVENT_TYPE_OFFERED:
            self.offer_id = event.offer_id
        if event.type in (RET.ROUTING_EVENT_TYPE_ACCEPTED, RET.ROUTING_EVENT_TYPE_ASSIGNED):
            self.agent_id = event.agent_id


class ContactBook:
    """Open contacts by id, plus the most recent closed ones so ExplainContact can still answer for them, and the
    latest contact's trace per conversation, so a new contact's spans link to the one before."""

    def __init__(self, closed_capacity: int = 10_000, conversation_capacity: int = 200_000) -> None:
        self._open: dict[str, ContactRecord] = {}
        self._closed: OrderedDict[str, ContactRecord] = OrderedDict()
        self._closed_capacity = closed_capacity
        self._latest_in_conversation: OrderedDict[str, trace.SpanContext] = OrderedDict()
        self._conversation_capacity = conversation_capacity

    def add(self, record: ContactRecord) -> None:
        self._open[record.contact_id] = record
        self.remember_in_conversation(record)

    def latest_in_conversation(self, conversation_id: str) -> trace.SpanContext | None:
        """The span of the conversation's most recent contact so far, while it is remembered."""
        return self._latest_in_conversation.get(conversation_id) if conversation_id else None

    def remember_in_conversation(self, record: ContactRecord) -> None:
        span_context = trace.get_current_span(record.context).get_span_context()
        conversation_id = record.event.conversation_id
        if not conversation_id or not span_context.is_valid:
            return
        self._latest_in_conversation[conversation_id] = span_context
        self._latest_in_conversation.move_to_end(conversation_id)
        while len(self._latest_in_conversation) > self._conversation_capacity:
            self._latest_in_conversation.popitem(last=False)

    def archive(self, record: ContactRecord) -> None:
        self._closed[record.contact_id] = record
        while len(self._closed) > self._closed_capacity:
            self._closed.popitem(last=False)

    def get(self, contact_id: str) -> ContactRecord | None:
        return self._open.get(contact_id) or self._closed.get(contact_id)

    def open_record(self, contact_id: str) -> ContactRecord | None:
        return self._open.get(contact_id)

    def open_records(self) -> list[ContactRecord]:
        return list(self._open.values())

    def record(self, event: routing_pb2.RoutingEvent) -> ContactRecord | None:
        """Append a routing event to its contact's history; closed contacts move to the bounded archive."""
        entry = self._open.get(event.contact_id)
        if entry is None:
            archived = self._closed.get(event.contact_id)
            if archived is not None:
                archived.record(event)
            return archived
        entry.record(event)
        if entry.state in CLOSED_STATES:
            del self._open[event.contact_id]
            self.archive(entry)
        return entry

    def __len__(self) -> int:
        return len(self._open)
