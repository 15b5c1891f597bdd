"""Satisfaction surveys after completion: planned by the domain's SurveyPlanner, sent on contacts.outbound with a
ticket signed with FEEDBACK_TOKEN_SECRET, then written to routing.events as SURVEY_SENT.

Called by the switchboard under its lock. The outbound message goes first: a crash between the two sends the
survey again after recovery (same survey id and message id, which the gateways deduplicate) rather than never.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from opentelemetry import trace

from contactrouting.metrics import SURVEYS
from contactrouting.survey_tickets import issue_ticket
from contactrouting.v1 import routing_pb2
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.contact_mapping import seconds
from services.router.adapters.kafka_publisher import RouterPublisher
from services.router.adapters.survey_mapping import (
    completed_contact,
    survey_outbound,
    survey_sent_event,
    survey_ticket,
)
from services.router.domain import ContactCompleted, RoutingPolicy
from services.router.domain.surveys import CompletedContact, PlannedSurvey, SurveyContent, SurveyPlanner

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)

RET = routing_pb2.RoutingEventType


class SurveyDispatch:
    def __init__(self, policy: RoutingPolicy, publisher: RouterPublisher, secret: str) -> None:
        self._planner = SurveyPlanner(policy)
        self._publisher = publisher
        self._secret = secret
        self._records: dict[str, ContactRecord] = {}  # of planned surveys, by contact id

    @property
    def enabled(self) -> bool:
        """Without a secret no ticket can be signed, so no survey is planned."""
        return bool(self._secret)

    def __len__(self) -> int:
        return len(self._planner)

    def replace_policy(self, policy: RoutingPolicy) -> None:
        self._planner.replace_policy(policy)

    def completed(self, record: ContactRecord, event: ContactCompleted) -> None:
        if self.enabled:
            self._plan(record, completed_contact(record, event.agent_id, event.occurred_at), event.occurred_at)

    def restore(self, sent: Iterable[routing_pb2.RoutingEvent], completed: Iterable[ContactRecord], now: float) -> int:
        """Recovery: surveys in the log count against the cap; completed contacts without one are planned again
        (in completion order, as they were first). Returns how many surveys are planned. Quiet about the contacts
        that get none: the log holds weeks of them, and each was reported when it was completed."""
        if not self.enabled:
            return 0
        for event in sent:
            self._planner.survey_sent(event.customer_id, seconds(event.occurred_at))
        contacts = []
        for record in completed:
            finished = next(e for e in reversed(record.history) if e.type == RET.ROUTING_EVENT_TYPE_COMPLETED)
            contacts.append((completed_contact(record, finished.agent_id, seconds(finished.occurred_at)), record))
        for contact, record in sorted(contacts, key=lambda pair: pair[0].completed_at):
            self._plan(record, contact, now, report_skipped=False)
        return len(self._planner)

    def send_due(self, now: float) -> list[routing_pb2.RoutingEvent]:
        """Send every survey whose time has come; returns their SURVEY_SENT events (already published)."""
        due = self._planner.due(now)
        for planned, reason in due.dropped:
            self._records.pop(planned.contact.contact_id, None)
            SURVEYS.add(1, {"queue": planned.contact.queue, "outcome": reason.value})
            log.info("survey_dropped", contact_id=planned.contact.contact_id, reason=reason.value)
        return [self._send(survey, self._records.pop(survey.contact.contact_id)) for survey in due.send]

    def _plan(self, record: ContactRecord, contact: CompletedContact, now: float, report_skipped: bool = True) -> None:
        planned = self._planner.plan(contact, now)
        if isinstance(planned, PlannedSurvey):
            self._records[contact.contact_id] = record
            log.info("survey_planned", contact_id=contact.contact_id, queue=contact.queue, due_at=planned.due_at)
        elif report_skipped:
            SURVEYS.add(1, {"queue": contact.queue, "outcome": planned.value})
            log.info("survey_skipped", contact_id=contact.contact_id, queue=contact.queue, reason=planned.value)

    def _send(self, survey: SurveyContent, record: ContactRecord) -> routing_pb2.RoutingEvent:
        with tracer.start_as_current_span(
            "router survey", context=record.context, kind=trace.SpanKind.PRODUCER
        ) as span:
            span.set_attribute("contact.id", record.contact_id)
            span.set_attribute("survey.id", survey.survey_id)
            ticket = issue_ticket(survey_ticket(survey, record), self._secret)
            # "router survey" is this record's PRODUCER span: a publish span under it would only repeat it.
            self._publisher.outbound(survey_outbound(survey, record, ticket), span=False)
            event = survey_sent_event(survey, record)
            self._publisher.routing_event(event)
        SURVEYS.add(1, {"queue": survey.contact.queue, "outcome": "sent"})
        log.info("survey_sent", contact_id=record.contact_id, survey_id=survey.survey_id, scales=list(survey.scales))
        return event
