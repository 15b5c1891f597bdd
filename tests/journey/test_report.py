"""The journey printed for people and for programs."""

from __future__ import annotations

import json

import pytest

from services.journey.adapters.report import duration, render_json, render_text
from services.journey.domain import SpanSummary, build_journey

from .scenario import BASE, RET, decision, offered_timed_out_reoffered_accepted_completed, routing_event

NOW = BASE + 3600


def test_text_shows_steps_offers_sla_and_reasons() -> None:
    text = render_text(build_journey("c-1", offered_timed_out_reoffered_accepted_completed("c-1"), [], NOW))
    lines = text.splitlines()

    assert lines[0] == "journey of c-1: 1 contact"
    assert lines[2] == "contact c-1 · conversation conv-c-1 · email · hr · queue billing, priority 5 · completed"
    assert lines[3] == "  SLA: target 1m00s (deadline 2026-11-18T11:07:40.000Z): met, answered after 42.0s"
    assert lines[4] == "  time to first offer 0.200s · time to accept 42.0s · handle time 4m18s"
    assert (
        "  2026-11-18T11:06:40.200Z   +0.100s    0.200s  offered           agent a-1, offer o-1 (attempt 1): "
        "best skill match (step exact, 3 candidates, filtered out offline 2, score 0.90)"
    ) in lines
    assert (
        "  2026-11-18T11:07:10.200Z    +30.0s     30.2s  offer_timed_out   agent a-1, offer o-1: offer_timeout"
    ) in lines
    assert "  2026-11-18T11:11:40.000Z    +3m20s     5m00s  completed         agent a-2, disposition resolved" in lines
    assert lines[-3:] == [
        "  offers",
        "    o-1  agent a-1  timed_out after 30.0s",
        "    o-2  agent a-2  accepted after 11.7s",
    ]


def test_text_for_an_unknown_id() -> None:
    assert render_text(build_journey("nobody", [], [], NOW)) == "no contact, conversation or customer matches 'nobody'"


def test_json_has_iso_instants_and_second_durations() -> None:
    document = json.loads(
        render_json(build_journey("c-1", offered_timed_out_reoffered_accepted_completed("c-1"), [], NOW))
    )

    (contact,) = document["contacts"]
    assert document["query"] == "c-1"
    assert contact["received_at"] == "2026-11-18T11:06:40.000Z"
    assert contact["sla"] == {
        "deadline": "2026-11-18T11:07:40.000Z",
        "target_s": 60.0,
        "answered_at": "2026-11-18T11:07:22.000Z",
        "status": "met",
    }
    assert [(o["offer_id"], o["outcome"], o["answer_s"]) for o in contact["offers"]] == [
        ("o-1", "timed_out", 30.0),
        ("o-2", "accepted", 11.7),
    ]
    assert contact["steps"][2]["decision"]["relaxation_step"] == "exact"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (0.2, "0.200s"), (42.04, "42.0s"), (258.0, "4m18s"), (3 * 3600 + 125, "3h02m"), (-0.5, "-0.500s")],
)
def test_duration(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_text_shows_the_trace_as_a_tree() -> None:
    def span(span_id: str, parent: str, service: str, name: str, offset_s: float) -> SpanSummary:
        return SpanSummary("t1", span_id, parent or None, service, name, BASE + offset_s, 0.002, "UNSET", "c-1", "")

    spans = [
        span("s1", "", "email_gateway", "email receive", 0.0),
        span("s2", "s1", "email_gateway", "contacts.inbound publish", 0.01),
        span("s3", "s2", "router", "router enqueue", 0.1),
        span("s4", "s3", "router", "router offer", 12.5),
    ]

    text = render_text(build_journey("c-1", [], spans, NOW))

    assert text.splitlines()[2:] == [
        "contact c-1 · conversation - · received",
        "  SLA: no target",
        "  time to first offer - · time to accept - · handle time -",
        "",
        "  time                         +prev    +total  step              details",
        "  2026-11-18T11:06:40.000Z              0.000s  received",
        "",
        "  trace t1: 4 spans (email_gateway, router)",
        "      +0.000s  email_gateway: email receive (0.002s)",
        "      +0.010s    email_gateway: contacts.inbound publish (0.002s)",
        "      +0.100s      router: router enqueue (0.002s)",
        "       +12.5s        router: router offer (0.002s)",
    ]


def test_an_offer_that_needs_translation_says_so() -> None:
    events = [
        routing_event("c-9", RET.ROUTING_EVENT_TYPE_QUEUED, BASE),
        routing_event(
            "c-9",
            RET.ROUTING_EVENT_TYPE_OFFERED,
            BASE + 600,
            agent_id="a-1",
            offer_id="o-1",
            attempt=1,
            needs_translation=True,
            decision=decision("a-1", "fallback language en"),
        ),
    ]
    journey = build_journey("c-9", events, [], NOW)

    [offered] = [step for step in journey.contacts[0].steps if step.kind == "offered"]
    assert offered.needs_translation
    assert "agent a-1, offer o-1 (attempt 1), needs translation: fallback language en" in render_text(journey)
