"""The one way into the routing engine: every call is serialized under one lock, and what the engine reports
is written to routing.events and to the desks of the agents concerned."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import structlog
from kafka.producer.future import FutureRecordMetadata
from opentelemetry import context as otel_context
from opentelemetry import trace

from contactrouting.tracing import context_from_traceparent, current_traceparent
from contactrouting.v1 import agent_desk_pb2, contact_pb2, feedback_pb2, routing_pb2
from services.router.adapters.contact_book import ContactBook, ContactRecord
from services.router.adapters.contact_mapping import contact_attributes, contact_request, timestamp
from services.router.adapters.desk_message_mapping import assignment, desk_message, presence_enum
from services.router.adapters.desk_session import DeskSession
from services.router.adapters.kafka_publisher import RouterPublisher
from services.router.adapters.pseudonyms import pseudonym
from services.router.adapters.routing_event_mapping import is_contact_event, routing_event
from services.router.adapters.routing_metrics import RoutingMetrics
from services.router.adapters.service_facts import survey_answer
from services.router.adapters.service_history import ServiceHistory
from services.router.adapters.survey_dispatch import SurveyDispatch
from services.router.domain import (
    AgentSpec,
    CommandRejected,
    ContactAssigned,
    ContactCompleted,
    ContactQueued,
    DomainEvent,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OfferRescinded,
    OfferTimedOut,
    Presence,
    PresenceChanged,
    QueueStatsView,
    RoutingEngine,
    RoutingPolicy,
)
from services.router.domain.service_report import Scale

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)

RET = routing_pb2.RoutingEventType
Clock = Callable[[], float]
# Queue and agent gauges are read from a snapshot this old at most, so a scrape never waits for the engine.
METRICS_REFRESH_S = 1.0
Futures = list[FutureRecordMetadata]


class Switchboard:
    def __init__(
        self,
        engine: RoutingEngine,
        publisher: RouterPublisher,
        metrics: RoutingMetrics | None = None,
        clock: Clock = time.time,
        surveys: SurveyDispatch | None = None,
        service: ServiceHistory | None = None,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self.metrics = metrics or RoutingMetrics()
        # Completed contacts, replies and survey answers for service reports; fed with every routing event.
        self.service = service or ServiceHistory()
        self._clock = clock
        self._surveys = surveys if surveys is not None else SurveyDispatch(engine.policy, publisher, secret="")
        self._presence: dict[str, Presence] = {}  # of connected agents
        self._next_metrics_refresh = 0.0
        self._lock = threading.RLock()
        self._book = ContactBook()
        self._sessions: dict[str, DeskSession] = {}
        # The engine numbers offers per contact from 1 again after a restart; the wire id adds this run's epoch
        # so an offer id never means two offers in routing.events, and a stale answer is refused.
        self._epoch = uuid.uuid4().hex[:8]

    # --- contacts and agents from Kafka -------------------------------------------------------------------------
    def enqueue(self, event: contact_pb2.ContactEvent, context: otel_context.Context) -> Futures:
        """Queue a new contact; returns the publish futures of its routing events (QUEUED first)."""
        with self._lock:
            if self._engine.is_known(event.contact_id) or self._book.get(event.contact_id) is not None:
                log.info("contact_already_known", contact_id=event.contact_id)
                return []
            # The conversation's earlier contact is a span link: a customer's whole journey is found from any contact.
            earlier = self._book.latest_in_conversation(event.conversation_id)
            with tracer.start_as_current_span(
                "router enqueue",
                context=context,
                kind=trace.SpanKind.CONSUMER,
                links=[trace.Link(earlier)] if earlier is not None else None,
            ) as span:
                now = self._clock()
                request = contact_request(event, now)
                span.set_attributes(contact_attributes(event))
                self._book.add(ContactRecord(event, otel_context.get_current()))
                with tracer.start_as_current_span("router match") as match:
                    events = self._engine.enqueue(request, now)
                    queued = next((e for e in events if isinstance(e, ContactQueued)), None)
                    offer = next((e for e in events if isinstance(e, OfferMade)), None)
                    match.set_attribute("routing.outcome", "offered" if offer else "waiting")
                    if queued is not None:
                        span.set_attribute("contact.queue", queued.queue)
                        match.set_attribute("routing.relaxation_step", queued.relaxation_step)
                    if offer is not None:
                        match.set_attribute("routing.candidates_considered", offer.decision.candidates_considered)
                        match.set_attribute("agent.id", offer.agent_id)
                return self._deliver(events, now)

    def upsert_agent(self, spec: AgentSpec) -> None:
        with self._lock:
            now = self._clock()
            self._deliver(self._engine.upsert_agent(spec, now), now)

    def remove_agent(self, agent_id: str) -> None:
        """A deleted profile: the agent's work is requeued by the engine and an open desk stream is ended."""
        with self._lock:
            now = self._clock()
            self._deliver(self._engine.remove_agent(agent_id, now), now)
            session = self._sessions.pop(agent_id, None)
            self._presence.pop(agent_id, None)
        if session is not None:
            session.send(self._error("agent_removed", "the agent's profile was deleted"))
            session.close()

    # --- agent desks ------------------------------------------------------------------------------------------
    def connect(self, session: DeskSession) -> bool:
        """Log an agent in on this session; a newer session replaces an older one of the same agent."""
        agent_id = session.agent_id
        with self._lock:
            now = self._clock()
            previous = self._sessions.pop(agent_id, None)
            if previous is not None:
                # The old stream goes offline first, so an offer only it was shown is rescinded and made again.
                self._deliver(self._engine.agent_disconnected(agent_id, now), now)
                previous.send(self._error("session_replaced", "the agent logged in on another connection"))
                previous.close()
            events = self._engine.agent_connected(agent_id, now)
            refused = [event for event in events if isinstance(event, CommandRejected)]
            if refused:
                session.send(self._error(refused[0].code, refused[0].message))
                session.close()
                return False
            self._sessions[agent_id] = session
            presence = self._presence[agent_id] = next(
                (e.presence for e in events if isinstance(e, PresenceChanged)), Presence.AVAILABLE
            )
            accepted = agent_desk_pb2.LoginAccepted(agent_id=agent_id, presence=presence_enum(presence))
            session.send(agent_desk_pb2.DeskMessage(login_accepted=accepted))
            for contact_id in self._engine.assignments_of(agent_id):
                record = self._book.open_record(contact_id)
                if record is not None:
                    with self._in_trace_of(record):
                        message = agent_desk_pb2.DeskMessage(assignment=assignment(record))
                        message.traceparent = current_traceparent()
                        session.send(message)
            self._deliver([e for e in events if not isinstance(e, PresenceChanged)], now)
            log.info("agent_connected", agent=pseudonym(agent_id), session=session.session_id)
            return True

    def disconnect(self, session: DeskSession) -> None:
        """The agent's stream ended (or the router stops); a session already replaced changes nothing."""
        with self._lock:
            if self._is_current(session):
                now = self._clock()
                # Still registered while delivering, so an open stream hears its offer rescinded before it ends.
                self._deliver(self._engine.agent_disconnected(session.agent_id, now), now)
                del self._sessions[session.agent_id]
                self._presence.pop(session.agent_id, None)
                log.info("agent_disconnected", agent=pseudonym(session.agent_id), session=session.session_id)
        session.close()

    def set_presence(self, session: DeskSession, presence: Presence, reason: str) -> None:
        self._command(
            session,
            "agent presence",
            "",
            lambda now: self._engine.set_presence(session.agent_id, presence, reason, now),
        )

    def accept(self, session: DeskSession, offer_id: str, traceparent: str) -> None:
        engine_offer_id = self._engine_offer_id(offer_id)
        self._command(
            session,
            "agent accept",
            traceparent,
            lambda now: self._engine.accept(session.agent_id, engine_offer_id, now),
        )

    def reject(self, session: DeskSession, offer_id: str, reason: str, traceparent: str) -> None:
        engine_offer_id = self._engine_offer_id(offer_id)
        self._command(
            session,
            "agent reject",
            traceparent,
            lambda now: self._engine.reject(session.agent_id, engine_offer_id, reason, now),
        )

    def complete(self, session: DeskSession, contact_id: str, disposition: str, summary: str, traceparent: str) -> None:
        self._command(
            session,
            "agent complete",
            traceparent,
            lambda now: self._engine.complete(session.agent_id, contact_id, disposition, summary, now),
        )

    def reply(self, session: DeskSession, contact_id: str, body_text: str, traceparent: str) -> None:
        """Send the agent's reply out on the contact's channel; only the assigned agent may reply."""
        with self._lock:
            if not self._is_current(session):
                return
            record = self._book.open_record(contact_id)
            if record is None or contact_id not in self._engine.assignments_of(session.agent_id):
                session.send(self._error("not_owner", f"contact {contact_id} is not assigned to you"))
                return
            with tracer.start_as_current_span(
                "agent reply", context=self._command_context(traceparent), kind=trace.SpanKind.SERVER
            ) as span:
                span.set_attribute("contact.id", contact_id)
                self._publisher.outbound(outbound_reply(record.event, session.agent_id, body_text, self._clock()))

    # --- time, policy and read models -------------------------------------------------------------------------
    def tick(self) -> None:
        with self._lock:
            now = self._clock()
            self._deliver(self._engine.tick(now), now)
            for survey_sent in self._surveys.send_due(now):
                self._book.record(survey_sent)
            if now >= self._next_metrics_refresh:
                self.metrics.refresh(self._engine.queue_stats(now), self._presence, self._engine.occupancy())
                self._next_metrics_refresh = now + METRICS_REFRESH_S

    def replace_policy(self, policy: RoutingPolicy) -> None:
        with self._lock:
            self._engine.replace_policy(policy)
            self._surveys.replace_policy(policy)

    def queue_stats(self) -> list[QueueStatsView]:
        with self._lock:
            return self._engine.queue_stats(self._clock())

    def explain(self, contact_id: str) -> tuple[ContactRecord | None, tuple[int, float] | None]:
        """The contact's record (history and state) and its (position, estimated wait) while it waits."""
        with self._lock:
            return self._book.get(contact_id), self._engine.position(contact_id, self._clock())

    def record_external(self, event: routing_pb2.RoutingEvent) -> None:
        """A routing event another service wrote about one of our contacts (e.g. the gateway's REPLY_SENT)."""
        with self._lock:
            self._book.record(event)
        self.service.record(event)

    def record_feedback(self, event: feedback_pb2.FeedbackEvent) -> None:
        """A CSAT answer, for feedback-aware routing: filed under the skills its contact required (the contact's
        own, while its record is still in the book, and its queue's)."""
        answer = survey_answer(event)
        if answer is None or answer.scale is not Scale.CSAT or not event.agent_id:
            return
        with self._lock:
            record = self._book.get(event.contact_id)
            skills = [requirement.skill for requirement in record.event.required_skills] if record else []
            at = answer.completed_at or answer.answered_at
            self._engine.record_csat(event.agent_id, event.queue, skills, answer.rating, at)

    # --- start-up and shut-down --------------------------------------------------------------------------------
    @property
    def book(self) -> ContactBook:
        """For recovery only, before any other thread runs."""
        return self._book

    @property
    def engine(self) -> RoutingEngine:
        """For recovery only, before any other thread runs."""
        return self._engine

    @property
    def surveys(self) -> SurveyDispatch:
        """For recovery only, before any other thread runs."""
        return self._surveys

    def close_dangling_offer(self, record: ContactRecord, now: float) -> None:
        """Recovery: an offer pending when the router stopped died with the agent's stream; say so in the log."""
        offered = next(e for e in reversed(record.history) if e.type == RET.ROUTING_EVENT_TYPE_OFFERED)
        rescinded = OfferRescinded(offered.offer_id, record.contact_id, offered.agent_id, "router_restarted", now)
        with self._lock, self._in_trace_of(record):
            self._publish(rescinded, record)

    def disconnect_all(self) -> None:
        """Shut-down: every agent goes offline, so pending offers are rescinded and logged before we exit."""
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            self.disconnect(session)

    # --- internals --------------------------------------------------------------------------------------------
    def _command(
        self, session: DeskSession, name: str, traceparent: str, call: Callable[[float], list[DomainEvent]]
    ) -> None:
        with self._lock:
            if not self._is_current(session):
                return
            with tracer.start_as_current_span(
                name, context=self._command_context(traceparent), kind=trace.SpanKind.SERVER
            ):
                now = self._clock()
                self._deliver(call(now), now)

    def _is_current(self, session: DeskSession) -> bool:
        return self._sessions.get(session.agent_id) is session

    @staticmethod
    def _command_context(traceparent: str) -> otel_context.Context | None:
        # The agent echoes the offer's traceparent, so its accept joins the contact's trace.
        return context_from_traceparent(traceparent) if traceparent else None

    @staticmethod
    def _error(code: str, message: str) -> agent_desk_pb2.DeskMessage:
        return agent_desk_pb2.DeskMessage(error=agent_desk_pb2.DeskError(code=code, message=message))

    def _wire_offer_id(self, event: DomainEvent) -> DomainEvent:
        if isinstance(event, OfferMade | OfferAccepted | OfferRejected | OfferTimedOut | OfferRescinded):
            return dataclasses.replace(event, offer_id=f"{event.offer_id}~{self._epoch}")
        return event

    def _engine_offer_id(self, wire_offer_id: str) -> str:
        """The engine's id of an offer made in this run; an offer of an earlier run maps to no offer at all."""
        engine_id, _, epoch = wire_offer_id.rpartition("~")
        return engine_id if epoch == self._epoch else f"{wire_offer_id}~expired"

    def _deliver(self, events: Sequence[DomainEvent], now: float) -> Futures:
        futures: Futures = []
        for event in map(self._wire_offer_id, events):
            record = self._book.open_record(event.contact_id) if hasattr(event, "contact_id") else None
            if record is None and is_contact_event(event):
                log.error("routing_event_for_unknown_contact", event=type(event).__name__)
                continue
            self.metrics.record(event, record, now)
            if isinstance(event, PresenceChanged) and event.agent_id in self._presence:
                self._presence[event.agent_id] = event.presence
            with self._in_trace_of(record):
                if isinstance(event, OfferMade) and record is not None:
                    with tracer.start_as_current_span("router offer", kind=trace.SpanKind.PRODUCER) as span:
                        span.set_attributes(contact_attributes(record.event))
                        span.set_attribute("contact.queue", record.queue)
                        span.set_attribute("routing.offer_id", event.offer_id)
                        span.set_attribute("agent.id", event.agent_id)
                        span.set_attribute("routing.relaxation_step", event.decision.relaxation_step)
                        span.set_attribute("routing.candidates_considered", event.decision.candidates_considered)
                        span.set_attribute("routing.decision_summary", event.decision.summary)
                        span.set_attribute("routing.needs_translation", event.needs_translation)
                        futures.append(self._publish(event, record))
                        self._notify(event, record, now, futures)
                    continue
                if record is not None and is_contact_event(event):
                    futures.append(self._publish(event, record))
                    if isinstance(event, ContactCompleted):
                        self._surveys.completed(record, event)
                self._notify(event, record, now, futures)
        return futures

    def _publish(self, event: DomainEvent, record: ContactRecord) -> FutureRecordMetadata:
        record.absorb(event)
        message = routing_event(event, record)
        self._book.record(message)
        self.service.record(message)
        return self._publisher.routing_event(message)

    def _notify(self, event: DomainEvent, record: ContactRecord | None, now: float, futures: Futures) -> None:
        target = desk_message(event, record, now)
        if target is None:
            return
        agent_id, message = target
        session = self._sessions.get(agent_id)
        if session is not None:
            message.traceparent = current_traceparent()
            # Only work handed over must be durable first; an offer lost in a crash is simply made again.
            session.send(message, after=futures if isinstance(event, ContactAssigned) else ())

    @contextmanager
    def _in_trace_of(self, record: ContactRecord | None) -> Iterator[None]:
        """Work on a contact happens in its trace: inside the current span when that already belongs to it."""
        current = trace.get_current_span().get_span_context()
        if record is None or (current.is_valid and current.trace_id == record.trace_id):
            yield
            return
        token = otel_context.attach(record.context)
        try:
            yield
        finally:
            otel_context.detach(token)


def outbound_reply(
    contact: contact_pb2.ContactEvent, agent_id: str, body_text: str, now: float
) -> contact_pb2.OutboundMessage:
    subject = contact.subject
    if subject and not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        channel=contact.channel,
        agent_id=agent_id,
        customer=contact.customer,
        subject=subject,
        body_text=body_text,
        language=contact.language,
        in_reply_to=contact.source,
        created_at=timestamp(now),
        kind=contact_pb2.OUTBOUND_KIND_AGENT_REPLY,
    )
