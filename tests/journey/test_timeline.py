"""The journey timeline: steps, durations, offers and their outcomes, SLA, selection by any id."""

from __future__ import annotations

import pytest

from services.journey.domain import SpanSummary, build_journey, select_events

from .scenario import BASE, RET, offered_timed_out_reoffered_accepted_completed, routing_event

NOW = BASE + 3600


def test_offered_timed_out_reoffered_accepted_completed() -> None:
    journey = build_journey("c-1", offered_timed_out_reoffered_accepted_completed("c-1"), [], NOW)

    (contact,) = journey.contacts
    assert [step.kind for step in contact.steps] == [
        "received",
        "queued",
        "offered",
        "offer_timed_out",
        "offered",
        "accepted",
        "assigned",
        "reply_sent",
        "completed",
    ]
    assert [step.since_previous_s for step in contact.steps] == [None, 0.1, 0.1, 30.0, 0.1, 11.7, 0.0, 58.0, 200.0]
    assert [step.since_received_s for step in contact.steps][-1] == 300.0
    assert contact.state == "completed"
    assert (contact.channel, contact.language, contact.queue, contact.conversation_id) == (
        "email",
        "hr",
        "billing",
        "conv-c-1",
    )
    assert (contact.time_to_first_offer_s, contact.time_to_accept_s, contact.handle_time_s) == (0.2, 42.0, 258.0)


def test_each_offer_has_its_agent_outcome_and_reason() -> None:
    (contact,) = build_journey("c-1", offered_timed_out_reoffered_accepted_completed("c-1"), [], NOW).contacts

    summary = [(o.offer_id, o.agent_id, o.attempt, o.outcome, o.answer_s, o.reason) for o in contact.offers]
    assert summary == [
        ("o-1", "a-1", 1, "timed_out", 30.0, "offer_timeout"),
        ("o-2", "a-2", 2, "accepted", 11.7, ""),
    ]
    assert contact.offers[1].decision is not None
    assert contact.offers[1].decision.summary == "next best after a missed offer"
    offered = [step for step in contact.steps if step.kind == "offered"]
    assert [step.decision.summary for step in offered if step.decision] == [
        "best skill match",
        "next best after a missed offer",
    ]
    assert offered[0].decision is not None
    assert offered[0].decision.filtered_out == {"offline": 2}
    # Only the offer steps explain a decision; the rest would repeat the latest one.
    assert all(step.decision is None for step in contact.steps if step.kind != "offered")


def test_sla_met_when_accepted_before_the_deadline() -> None:
    (contact,) = build_journey("c-1", offered_timed_out_reoffered_accepted_completed("c-1"), [], NOW).contacts

    assert contact.sla is not None
    assert (contact.sla.target_s, contact.sla.answered_at, contact.sla.status) == (60.0, BASE + 42.0, "met")


@pytest.mark.parametrize(
    ("accepted_after_s", "now", "status"),
    [(61.0, NOW, "missed"), (None, BASE + 59, "pending"), (None, BASE + 61, "missed")],
)
def test_sla_missed_or_pending(accepted_after_s: float | None, now: float, status: str) -> None:
    events = offered_timed_out_reoffered_accepted_completed("c-1")[:4]
    if accepted_after_s is not None:
        events.append(routing_event("c-1", RET.ROUTING_EVENT_TYPE_ACCEPTED, BASE + accepted_after_s, offer_id="o-2"))

    (contact,) = build_journey("c-1", events, [], now).contacts

    assert contact.sla is not None
    assert contact.sla.status == status
    assert contact.state == ("assigned" if accepted_after_s else "offered")


def test_escalation_keeps_the_state_and_shows_the_reason() -> None:
    events = offered_timed_out_reoffered_accepted_completed("c-1")[:3]
    events.append(routing_event("c-1", RET.ROUTING_EVENT_TYPE_ESCALATED, BASE + 45, reason="sla_at_risk"))

    (contact,) = build_journey("c-1", events, [], NOW).contacts

    assert contact.steps[-1].kind == "escalated"
    assert contact.steps[-1].reason == "sla_at_risk"
    assert contact.state == "waiting"


def test_selects_by_conversation_and_by_customer_id_including_later_events() -> None:
    first = offered_timed_out_reoffered_accepted_completed("c-1", customer_id="cust-7")
    second = offered_timed_out_reoffered_accepted_completed("c-2", customer_id="cust-7", base=BASE + 900)
    other = offered_timed_out_reoffered_accepted_completed("c-3", customer_id="cust-8")
    interleaved = [event for pair in zip(first, other, second, strict=True) for event in pair]

    by_customer = build_journey("cust-7", interleaved, [], NOW)
    by_conversation = select_events(interleaved, "conv-c-2")

    assert [contact.contact_id for contact in by_customer.contacts] == ["c-1", "c-2"]
    assert all(len(contact.steps) == 9 for contact in by_customer.contacts)
    assert {event.contact_id for event in by_conversation} == {"c-2"}
    assert len(by_conversation) == 8


def test_a_republished_event_is_shown_once() -> None:
    events = offered_timed_out_reoffered_accepted_completed("c-1")

    (contact,) = build_journey("c-1", [*events, events[1]], [], NOW).contacts

    assert len(contact.steps) == 9


def test_unknown_ids_give_an_empty_journey() -> None:
    assert build_journey("nobody", offered_timed_out_reoffered_accepted_completed("c-1"), [], NOW).contacts == []


def span(
    trace_id: str, span_id: str, service: str, start: float, contact_id: str = "", parent: str = ""
) -> SpanSummary:
    return SpanSummary(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent or None,
        service=service,
        name=f"{service} work",
        start=start,
        duration_s=0.01,
        status="UNSET",
        contact_id=contact_id,
        conversation_id=f"conv-{contact_id}" if contact_id else "",
    )


def test_the_contacts_trace_is_attached_whole() -> None:
    spans = [
        span("t1", "s2", "router", BASE + 0.05, parent="s1"),  # no contact attribute, but in the contact's trace
        span("t1", "s1", "email_gateway", BASE, contact_id="c-1"),
        span("t2", "s9", "router", BASE, contact_id="c-9"),
    ]

    (contact,) = build_journey("c-1", offered_timed_out_reoffered_accepted_completed("c-1"), spans, NOW).contacts

    assert contact.trace_ids == ["t1"]
    assert [s.span_id for s in contact.spans] == ["s1", "s2"]


def test_a_contact_known_only_from_spans_is_received_but_not_routed() -> None:
    spans = [span("t1", "s1", "email_gateway", BASE + 5, contact_id="c-1")]

    (contact,) = build_journey("conv-c-1", [], spans, NOW).contacts

    assert (contact.contact_id, contact.state, contact.received_at) == ("c-1", "received", BASE + 5)
    assert (contact.conversation_id, contact.channel) == ("conv-c-1", "")
    assert [step.kind for step in contact.steps] == ["received"]
    assert contact.sla is None


def test_gateway_events_without_queue_or_priority_do_not_blank_them() -> None:
    events = offered_timed_out_reoffered_accepted_completed("c-1")
    delivered = routing_event("c-1", RET.ROUTING_EVENT_TYPE_DELIVERY_FAILED, BASE + 400, reason="agent_reply: 550")
    delivered.queue, delivered.priority = "", 0
    delivered.ClearField("sla_deadline")

    (contact,) = build_journey("c-1", [*events, delivered], [], NOW).contacts

    assert (contact.queue, contact.priority) == ("billing", 5)
    assert contact.steps[-1].kind == "delivery_failed"
    assert contact.steps[-1].reason == "agent_reply: 550"
    assert contact.sla is not None
    assert contact.sla.status == "met"


def test_a_survey_after_completion_is_a_step_and_leaves_the_contact_completed() -> None:
    events = offered_timed_out_reoffered_accepted_completed("c-1")
    survey_sent = routing_event("c-1", RET.ROUTING_EVENT_TYPE_SURVEY_SENT, BASE + 302, agent_id="a-2")
    survey_failed = routing_event("c-1", RET.ROUTING_EVENT_TYPE_DELIVERY_FAILED, BASE + 303, reason="survey: 550")

    (contact,) = build_journey("c-1", [*events, survey_sent, survey_failed], [], NOW).contacts

    assert [step.kind for step in contact.steps][-3:] == ["completed", "survey_sent", "delivery_failed"]
    assert contact.state == "completed"
    assert (contact.time_to_accept_s, contact.handle_time_s) == (42.0, 258.0)
    assert contact.offers[-1].outcome == "accepted"
