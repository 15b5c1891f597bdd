"""RoutingEvent and FeedbackEvent records as ledger facts, and the router's thread-safe service history."""

from __future__ import annotations

from contactrouting.v1 import contact_pb2, feedback_pb2, routing_pb2
from services.router.adapters.contact_mapping import timestamp
from services.router.adapters.service_facts import Absorbed, absorb_routing_event, survey_answer
from services.router.adapters.service_history import ServiceFigures, ServiceHistory
from services.router.domain.service_ledger import ServiceLedger
from services.router.domain.service_report import Attribution, Period, Scale

RET = routing_pb2.RoutingEventType
T = 1_800_000_000.0


def routing_event(kind: int, at: float, contact_id: str = "c1", **fields: object) -> routing_pb2.RoutingEvent:
    return routing_pb2.RoutingEvent(
        contact_id=contact_id,
        conversation_id=f"conv-{contact_id}",
        type=kind,  # type: ignore[arg-type]
        occurred_at=timestamp(at),
        queue="billing",
        channel=contact_pb2.CHANNEL_WHATSAPP,
        language="hr-HR",
        **fields,  # type: ignore[arg-type]
    )


def feedback(scale: int, rating: int) -> feedback_pb2.FeedbackEvent:
    return feedback_pb2.FeedbackEvent(
        survey_id="s1",
        contact_id="c1",
        scale=scale,  # type: ignore[arg-type]
        rating=rating,
        agent_id="a1",
        queue="billing",
        language="sk-SK",
        channel=contact_pb2.CHANNEL_TELEGRAM,
        completed_at=timestamp(T + 10),
        answered_at=timestamp(T + 99),
    )


def test_queued_without_a_receive_time_counts_from_the_queued_event() -> None:
    ledger = ServiceLedger()
    absorb_routing_event(ledger, routing_event(RET.ROUTING_EVENT_TYPE_QUEUED, T, contact=contact_pb2.ContactEvent()))
    absorb_routing_event(ledger, routing_event(RET.ROUTING_EVENT_TYPE_OFFERED, T + 1, agent_id="a0"))
    absorb_routing_event(ledger, routing_event(RET.ROUTING_EVENT_TYPE_REPLY_SENT, T + 20))
    absorb_routing_event(ledger, routing_event(RET.ROUTING_EVENT_TYPE_COMPLETED, T + 50, agent_id="a1"))
    (row,) = ledger.report(Period(), "language")
    assert (row.key, row.completed, row.first_response_avg_s, row.resolution_avg_s) == ("hr", 1, 20.0, 50.0)
    (by_channel,) = ledger.report(Period(), "channel")
    assert by_channel.key == "whatsapp"


def test_an_answer_is_attributed_by_its_ticket_in_policy_names() -> None:
    answer = survey_answer(feedback(contact_pb2.SURVEY_SCALE_NPS, 10))
    assert answer is not None
    assert (answer.scale, answer.rating, answer.completed_at, answer.answered_at) == (Scale.NPS, 10, T + 10, T + 99)
    assert answer.attribution == Attribution("a1", "billing", "telegram", "sk")


def test_unknown_scales_and_ratings_outside_the_scale_are_unusable() -> None:
    assert survey_answer(feedback(contact_pb2.SURVEY_SCALE_UNSPECIFIED, 3)) is None
    assert survey_answer(feedback(contact_pb2.SURVEY_SCALE_CSAT, 0)) is None
    assert survey_answer(feedback(contact_pb2.SURVEY_SCALE_CSAT, 6)) is None
    assert survey_answer(feedback(contact_pb2.SURVEY_SCALE_NPS, 11)) is None
    assert survey_answer(feedback(contact_pb2.SURVEY_SCALE_NPS, 0)) is not None


def test_the_history_reports_recorded_events_and_publishes_figures_of_the_metrics_period() -> None:
    history = ServiceHistory(window_s=10 * 86400, metrics_period_s=86400)
    history.record_all(
        [
            routing_event(RET.ROUTING_EVENT_TYPE_QUEUED, T - 2 * 86400, "old"),
            routing_event(RET.ROUTING_EVENT_TYPE_COMPLETED, T - 2 * 86400 + 30, "old", agent_id="a1"),
        ]
    )
    history.record(routing_event(RET.ROUTING_EVENT_TYPE_QUEUED, T, "new"))
    history.record(routing_event(RET.ROUTING_EVENT_TYPE_COMPLETED, T + 60, "new", agent_id="a1"))
    assert history.record_feedback(feedback(contact_pb2.SURVEY_SCALE_CSAT, 5)) is Absorbed.NEW
    assert history.record_feedback(feedback(contact_pb2.SURVEY_SCALE_CSAT, 4)) is Absorbed.REPEATED
    assert history.record_feedback(feedback(contact_pb2.SURVEY_SCALE_CSAT, 9)) is Absorbed.UNUSABLE
    (row,) = history.report(Period(), "all")
    assert (row.completed, row.csat_responses) == (2, 1)

    published: list[ServiceFigures] = []
    history.refresh(T + 100, published.append)
    (figures,) = published
    assert list(figures) == [("billing", "whatsapp", "hr"), ("billing", "telegram", "sk")]
    recent, answered_only = figures.values()
    assert (recent.completed, recent.resolution_avg_s) == (1, 60.0)  # "old" is outside the last day
    assert (answered_only.completed, answered_only.csat_percent) == (0, 100.0)
