"""Surveys from completion to the wire, with a recording publisher: the outbound survey with its signed ticket,
then SURVEY_SENT; no secret, no surveys; recovery rebuilds the cap and the surveys still due."""

from __future__ import annotations

from typing import Any, cast

import pytest
from opentelemetry import context as otel_context
from structlog.testing import capture_logs

from contactrouting.survey_tickets import verify_ticket
from contactrouting.v1 import contact_pb2, routing_pb2
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.contact_mapping import seconds, timestamp
from services.router.adapters.desk_session import DeskSession
from services.router.adapters.kafka_publisher import RouterPublisher
from services.router.adapters.survey_dispatch import SurveyDispatch
from services.router.adapters.switchboard import Switchboard
from services.router.domain import AgentSpec, ContactCompleted, RoutingEngine, parse_policy
from services.router.domain.surveys import survey_id_for

RET = routing_pb2.RoutingEventType
NOW = 1_800_000_000.0
SECRET = "survey-secret-for-tests"
POLICY = parse_policy(
    {
        "default_queue": "general",
        "queues": [
            {
                "name": "general",
                "survey": {"enabled": True, "scales": ["csat", "nps"], "delay_s": 2, "answer_window_h": 24},
            }
        ],
    }
)


class Acked:
    def get(self, timeout: float | None = None) -> Any:
        return None


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[contact_pb2.OutboundMessage | routing_pb2.RoutingEvent] = []

    def routing_event(self, event: routing_pb2.RoutingEvent) -> Acked:
        self.published.append(event)
        return Acked()

    def outbound(self, message: contact_pb2.OutboundMessage, *, span: bool = True) -> Acked:
        self.published.append(message)
        return Acked()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


def dispatch(publisher: RecordingPublisher, secret: str = SECRET) -> SurveyDispatch:
    return SurveyDispatch(POLICY, cast(RouterPublisher, publisher), secret)


def record(
    contact_id: str = "c1", customer_id: str = "cust-1", channel: int = contact_pb2.CHANNEL_EMAIL
) -> ContactRecord:
    event = contact_pb2.ContactEvent(
        contact_id=contact_id,
        conversation_id=f"conv-{contact_id}",
        channel=channel,  # type: ignore[arg-type]
        customer=contact_pb2.Customer(customer_id=customer_id, handle="kupac@example.net"),
        language="hr",
        subject="Račun",
        source=contact_pb2.SourceRef(mailbox="support@example.com", platform_message_id=f"<{contact_id}@example.net>"),
    )
    return ContactRecord(event, otel_context.Context(), queue="general", priority=3, sla_deadline=NOW + 600)


def completion(contact: ContactRecord, at: float = NOW) -> ContactCompleted:
    return ContactCompleted(contact.contact_id, "agent-7", "resolved", "", at)


def completed_in_log(contact: ContactRecord, at: float) -> ContactRecord:
    """A record as recovery rebuilds it: its history ends with COMPLETED."""
    contact.record(
        routing_pb2.RoutingEvent(
            contact_id=contact.contact_id,
            type=RET.ROUTING_EVENT_TYPE_COMPLETED,
            agent_id="agent-7",
            occurred_at=timestamp(at),
        )
    )
    return contact


def test_a_completed_contact_gets_one_survey_then_survey_sent(publisher: RecordingPublisher) -> None:
    surveys = dispatch(publisher)
    contact = record()
    surveys.completed(contact, completion(contact))
    assert surveys.send_due(NOW + 1.9) == [] and publisher.published == []

    [sent] = surveys.send_due(NOW + 2)
    outbound, event = publisher.published
    assert isinstance(outbound, contact_pb2.OutboundMessage), "the survey goes out before SURVEY_SENT is written"
    assert event is sent
    assert surveys.send_due(NOW + 60) == [] and len(publisher.published) == 2

    assert outbound.kind == contact_pb2.OUTBOUND_KIND_SURVEY
    assert outbound.message_id == outbound.survey.survey_id == survey_id_for("c1")
    assert (outbound.contact_id, outbound.conversation_id, outbound.channel) == ("c1", "conv-c1", contact.event.channel)
    assert outbound.customer == contact.event.customer and outbound.in_reply_to == contact.event.source
    assert (outbound.language, outbound.agent_id) == ("hr", "agent-7")
    assert outbound.subject == "Kako smo vam pomogli?"
    assert outbound.body_text == (
        "Vaš je upit riješen. Recite nam kako smo vam pomogli.\n\nHvala vam što nam pomažete da budemo bolji."
    )
    assert list(outbound.quick_replies) == ["1", "2", "3", "4", "5"]
    assert list(outbound.survey.scales) == [contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS]
    assert seconds(outbound.survey.expires_at) == pytest.approx(NOW + 2 + 24 * 3600)
    assert seconds(outbound.created_at) == pytest.approx(NOW + 2)

    ticket = verify_ticket(outbound.survey.ticket, SECRET, now=NOW + 3)
    assert (ticket.survey_id, ticket.contact_id, ticket.conversation_id) == (survey_id_for("c1"), "c1", "conv-c1")
    assert (ticket.agent_id, ticket.queue, ticket.language, ticket.customer_id) == (
        "agent-7",
        "general",
        "hr",
        "cust-1",
    )
    assert ticket.channel == contact_pb2.CHANNEL_EMAIL and list(ticket.scales) == list(outbound.survey.scales)
    assert ticket.expires_at == outbound.survey.expires_at
    assert seconds(ticket.completed_at) == pytest.approx(NOW)

    assert event.type == RET.ROUTING_EVENT_TYPE_SURVEY_SENT
    assert (event.contact_id, event.conversation_id, event.agent_id, event.queue) == (
        "c1",
        "conv-c1",
        "agent-7",
        "general",
    )
    assert (event.channel, event.language, event.customer_id, event.priority) == (
        contact.event.channel,
        "hr",
        "cust-1",
        3,
    )
    assert seconds(event.occurred_at) == pytest.approx(NOW + 2)


def test_a_second_completion_of_the_customer_within_the_cap_gets_no_survey(publisher: RecordingPublisher) -> None:
    surveys = dispatch(publisher)
    first, second = record("c1"), record("c2")
    surveys.completed(first, completion(first))
    surveys.send_due(NOW + 2)
    surveys.completed(second, completion(second, NOW + 3600))
    assert surveys.send_due(NOW + 7200) == []
    assert [m.contact_id for m in publisher.published] == ["c1", "c1"]


def test_a_chat_survey_asks_the_first_scale_only(publisher: RecordingPublisher) -> None:
    surveys = dispatch(publisher)
    chat = record(channel=contact_pb2.CHANNEL_TELEGRAM)
    surveys.completed(chat, completion(chat))
    surveys.send_due(NOW + 2)
    outbound = publisher.published[0]
    assert isinstance(outbound, contact_pb2.OutboundMessage)
    assert outbound.body_text.startswith("Koliko ste zadovoljni") and "preporučili" not in outbound.body_text
    assert len(outbound.survey.scales) == 2, "the survey names every scale; the chat asks the first"


def test_without_a_secret_no_survey_is_planned(publisher: RecordingPublisher) -> None:
    surveys = dispatch(publisher, secret="")
    contact = record()
    surveys.completed(contact, completion(contact))
    assert not surveys.enabled and len(surveys) == 0
    assert surveys.send_due(NOW + 10) == [] and publisher.published == []
    assert surveys.restore([], [completed_in_log(record("c2"), NOW)], NOW) == 0


def test_recovery_rebuilds_the_cap_and_the_surveys_still_due(publisher: RecordingPublisher) -> None:
    surveys = dispatch(publisher)
    sent_before = routing_pb2.RoutingEvent(
        contact_id="old",
        type=RET.ROUTING_EVENT_TYPE_SURVEY_SENT,
        customer_id="cust-1",
        occurred_at=timestamp(NOW - 86_400),
    )
    capped = completed_in_log(record("c1", "cust-1"), NOW - 1)
    later = completed_in_log(record("c3", "cust-2"), NOW - 0.5)
    earlier = completed_in_log(record("c2", "cust-2"), NOW - 1)
    with capture_logs() as logged:
        assert surveys.restore([sent_before], [capped, later, earlier], NOW) == 1
    # Weeks of completed contacts are replayed: only the surveys still due are logged, not every contact without one.
    assert [entry["event"] for entry in logged] == ["survey_planned"]
    sent = surveys.send_due(NOW + 1)
    assert [e.contact_id for e in sent] == ["c2"], "the customer's first completion gets the survey, as it did live"


def test_the_switchboard_plans_on_completion_sends_on_its_tick_and_explains_the_survey(
    publisher: RecordingPublisher,
) -> None:
    clock = [NOW]
    surveys = dispatch(publisher)
    board = Switchboard(
        RoutingEngine(POLICY), cast(RouterPublisher, publisher), clock=lambda: clock[0], surveys=surveys
    )
    board.upsert_agent(AgentSpec("ana", {}, frozenset({"hr"}), {"email": 2}, frozenset({"general"}), True))
    desk = DeskSession("ana")
    board.connect(desk)
    board.enqueue(record().event, otel_context.Context())
    offer = next(m for m in publisher.published if isinstance(m, routing_pb2.RoutingEvent) and m.offer_id)
    board.accept(desk, offer.offer_id, traceparent="")
    board.complete(desk, "c1", "resolved", "", traceparent="")
    assert len(surveys) == 1

    board.tick()
    assert not any(isinstance(m, contact_pb2.OutboundMessage) for m in publisher.published), "not before delay_s"
    clock[0] = NOW + 2
    board.tick()
    outbound = [m for m in publisher.published if isinstance(m, contact_pb2.OutboundMessage)]
    assert [m.kind for m in outbound] == [contact_pb2.OUTBOUND_KIND_SURVEY]
    explained, _ = board.explain("c1")
    assert explained is not None and explained.state == "completed"
    assert explained.history[-1].type == RET.ROUTING_EVENT_TYPE_SURVEY_SENT


def test_a_policy_reload_that_turns_surveys_off_stops_the_planned_ones(publisher: RecordingPublisher) -> None:
    surveys = dispatch(publisher)
    board = Switchboard(RoutingEngine(POLICY), cast(RouterPublisher, publisher), clock=lambda: NOW + 5, surveys=surveys)
    contact = record()
    surveys.completed(contact, completion(contact))
    board.replace_policy(parse_policy({"default_queue": "general", "queues": [{"name": "general"}]}))
    board.tick()
    assert publisher.published == [] and len(surveys) == 0
