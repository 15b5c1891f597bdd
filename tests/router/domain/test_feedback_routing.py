"""Feedback-aware routing: an agent's recent CSAT for the contact's skills as a small, bounded score term.

Two agents of equal proficiency (general 3); a1 came online 10 minutes before a2, so the longest-idle tie-breaker
prefers a1 (660/(660+60) = 0.917 against 60/(60+60) = 0.5 at T0 + 60).
"""

from __future__ import annotations

from typing import Any

import pytest

from services.router.domain import OfferMade, RoutingEngine, parse_policy
from services.router.domain.policy import PolicyError
from services.router.domain.satisfaction import AgentSatisfaction
from services.router.domain.scoring import feedback_score

from .builders import T0, agent, contact, of_type, online, policy_data

DAY = 86_400.0
NOW = T0 + 60


def engine_with(feedback_routing: dict[str, Any] | None) -> RoutingEngine:
    data = policy_data()
    general = next(queue for queue in data["queues"] if queue["name"] == "general")
    if feedback_routing is not None:
        general["feedback_routing"] = feedback_routing
    engine = RoutingEngine(parse_policy(data))
    online(engine, agent("a1"), now=T0 - 600)
    online(engine, agent("a2"), now=T0)
    return engine


def rate(engine: RoutingEngine, agent_id: str, ratings: list[int], queue: str = "general", at: float = T0) -> None:
    for rating in ratings:
        engine.record_csat(agent_id, queue, (), rating, at)


def offer_of(engine: RoutingEngine) -> OfferMade:
    (offer,) = of_type(engine.enqueue(contact("c1"), NOW), OfferMade)
    return offer


ON = {"enabled": True, "weight": 0.5, "window_days": 30, "min_responses": 5}


def test_a_well_rated_agent_overtakes_a_longer_idle_one_and_the_decision_shows_why() -> None:
    engine = engine_with(ON)
    rate(engine, "a2", [5, 5, 4, 5, 5])  # CSAT 100 %: +0.5
    rate(engine, "a1", [5, 2, 1, 4, 3])  # CSAT 40 %: 0.5 * (0.8 - 1) = -0.1

    offer = offer_of(engine)

    assert offer.agent_id == "a2"
    parts = offer.decision.score_components
    assert (parts["feedback"], parts["csat"], parts["csat_responses"]) == (0.5, 1.0, 5.0)
    assert offer.decision.score == pytest.approx(30 + 0.5 + 0.5)  # proficiency 3 x 10, idle 0.5, feedback 0.5
    assert "recent CSAT 100% of 5 answers" in offer.decision.summary


def test_the_default_weight_only_nudges_the_tie_breaker() -> None:
    engine = engine_with({**ON, "weight": 0.1})
    rate(engine, "a2", [5, 5, 5, 5, 5])
    rate(engine, "a1", [5, 2, 1, 4, 3])

    offer = offer_of(engine)

    assert offer.agent_id == "a1"  # 0.917 - 0.02 still beats 0.5 + 0.1
    assert offer.decision.score_components["feedback"] == pytest.approx(-0.02)


def test_off_by_default_no_term_and_no_components() -> None:
    engine = engine_with(None)
    rate(engine, "a2", [5, 5, 5, 5, 5])
    rate(engine, "a1", [1, 1, 1, 1, 1])

    offer = offer_of(engine)

    assert offer.agent_id == "a1"
    assert set(offer.decision.score_components) == {"sticky", "proficiency", "idle_s"}


def test_fewer_answers_than_min_responses_count_as_neutral() -> None:
    engine = engine_with(ON)
    rate(engine, "a2", [5, 5, 5, 5])

    offer = offer_of(engine)

    assert offer.agent_id == "a1"
    assert offer.decision.score_components["feedback"] == 0.0
    assert offer.decision.score_components["csat_responses"] == 0.0  # a1 has none


def test_only_answers_in_the_window_and_about_the_contacts_skills_count() -> None:
    engine = engine_with(ON)
    rate(engine, "a2", [5, 5, 5, 5, 5], at=T0 - 31 * DAY)  # too old
    rate(engine, "a2", [5, 5, 5, 5, 5], queue="billing")  # billing work, not general

    assert offer_of(engine).agent_id == "a1"


def test_proficiency_still_dominates() -> None:
    engine = engine_with(ON)
    online(engine, agent("a3", skills={"general": 4}), now=NOW)  # just online, one level better
    rate(engine, "a2", [5, 5, 5, 5, 5])
    rate(engine, "a3", [1, 1, 1, 1, 1])  # -0.5

    assert offer_of(engine).agent_id == "a3"


def test_an_answer_about_several_skills_counts_once() -> None:
    satisfaction = AgentSatisfaction()
    policy = parse_policy(policy_data()).queue("general").feedback_routing.model_copy(update={"min_responses": 1})
    satisfaction.record("a1", ["general", "billing"], 5, T0)
    satisfaction.record("a1", ["billing"], 2, T0)
    score = satisfaction.score("a1", ["general", "billing"], policy, T0)
    assert (score.responses, score.satisfied) == (2, 1)


def test_the_term_is_bounded_by_the_weight() -> None:
    assert feedback_score(10, 10, 0.3, 5).term == pytest.approx(0.3)
    assert feedback_score(0, 10, 0.3, 5).term == pytest.approx(-0.3)
    assert feedback_score(5, 10, 0.3, 5).term == 0.0
    assert feedback_score(4, 4, 0.3, 5).term == 0.0


def test_a_weight_above_one_half_is_refused() -> None:
    data = policy_data()
    data["queues"][2]["feedback_routing"] = {"enabled": True, "weight": 0.8}
    with pytest.raises(PolicyError, match=r"feedback_routing\.weight"):
        parse_policy(data)
