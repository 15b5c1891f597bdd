"""The RoutingEngine end to end: offers, accept/reject/timeout, completion, presence, disconnects and recovery."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.router.domain import (
    CommandRejected,
    ContactAssigned,
    ContactCompleted,
    ContactEscalated,
    ContactQueued,
    ContactRequeued,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OfferRescinded,
    OfferTimedOut,
    Presence,
    PresenceChanged,
    RoutingEngine,
)

from .builders import T0, agent, contact, of_type, online


def offer_in(events: Sequence[object]) -> OfferMade:
    offers = of_type(events, OfferMade)
    assert len(offers) == 1, events
    return offers[0]


def test_contact_is_queued_then_offered_to_an_eligible_agent(engine: RoutingEngine) -> None:
    online(engine, agent("a1"))
    events = engine.enqueue(contact("c1"), T0 + 1)
    queued = of_type(events, ContactQueued)[0]
    assert (queued.queue, queued.priority, queued.sla_deadline) == ("general", 0, T0 + 86400)
    offer = offer_in(events)
    assert (offer.contact_id, offer.agent_id, offer.expires_at) == ("c1", "a1", T0 + 21)
    assert not offer.needs_translation


def test_without_eligible_agent_the_contact_waits_and_is_pulled_on_connect(engine: RoutingEngine) -> None:
    engine.upsert_agent(agent("a1"), T0)
    assert not of_type(engine.enqueue(contact("c1"), T0), OfferMade)
    assert engine.position("c1", T0) is not None
    offer = offer_in(engine.agent_connected("a1", T0 + 5))
    assert offer.contact_id == "c1"
    assert engine.position("c1", T0 + 5) is None


def test_accept_assigns_the_contact(engine: RoutingEngine) -> None:
    online(engine, agent("a1"))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    events = engine.accept("a1", offer.offer_id, T0 + 3)
    assert of_type(events, OfferAccepted)[0].offer_id == offer.offer_id
    assert of_type(events, ContactAssigned)[0].agent_id == "a1"
    assert engine.assignments_of("a1") == ["c1"]
    again = engine.accept("a1", offer.offer_id, T0 + 4)
    assert of_type(again, CommandRejected)[0].code == "unknown_offer"


def test_only_the_offered_agent_may_answer(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    other = "a2" if offer.agent_id == "a1" else "a1"
    assert of_type(engine.accept(other, offer.offer_id, T0), CommandRejected)[0].code == "not_owner"
    assert of_type(engine.accept("ghost", offer.offer_id, T0), CommandRejected)[0].code == "unknown_agent"


def test_one_offer_per_agent_at_a_time_and_next_pulled_after_accept(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 3}))
    first = offer_in(engine.enqueue(contact("c1"), T0))
    assert not of_type(engine.enqueue(contact("c2"), T0 + 1), OfferMade)
    pulled = offer_in(engine.accept("a1", first.offer_id, T0 + 2))
    assert pulled.contact_id == "c2"
    assert pulled.decision.summary.startswith("agent freed capacity")


def test_reject_moves_the_offer_to_the_next_candidate(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    first = offer_in(engine.enqueue(contact("c1"), T0))
    events = engine.reject(first.agent_id, first.offer_id, "busy", T0 + 1)
    assert of_type(events, OfferRejected)[0].reason == "busy"
    second = offer_in(events)
    assert second.agent_id != first.agent_id
    assert second.attempt == 2


def test_offer_timeout_sets_agent_away_and_reoffers(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    first = offer_in(engine.enqueue(contact("c1"), T0))
    assert engine.tick(T0 + 19.9) == []
    events = engine.tick(T0 + 20)
    assert of_type(events, OfferTimedOut)[0].offer_id == first.offer_id
    presence = of_type(events, PresenceChanged)[0]
    assert (presence.agent_id, presence.presence, presence.reason) == (first.agent_id, Presence.AWAY, "missed_offer")
    assert offer_in(events).agent_id != first.agent_id
    assert engine.queue_stats(T0 + 20)[2].offers_timed_out == 1


def test_attempts_are_bounded_then_the_contact_escalates(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"), agent("a3"))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    for attempt in range(1, 3):
        events = engine.reject(offer.agent_id, offer.offer_id, "no", T0 + attempt)
        assert not of_type(events, ContactEscalated)
        offer = offer_in(events)
    events = engine.reject(offer.agent_id, offer.offer_id, "no", T0 + 3)
    escalated = of_type(events, ContactEscalated)[0]
    assert escalated.reason == "offer_attempts_exhausted"
    assert escalated.priority == 5
    assert offer_in(events).attempt == 1  # everyone may be asked again after the escalation


def test_capacity_is_per_channel(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1, "whatsapp": 1}))
    offer = offer_in(engine.enqueue(contact("c1", channel="email"), T0))
    engine.accept("a1", offer.offer_id, T0)
    assert not of_type(engine.enqueue(contact("c2", channel="email"), T0), OfferMade)
    assert offer_in(engine.enqueue(contact("c3", channel="whatsapp"), T0)).contact_id == "c3"


def test_complete_frees_capacity_and_pulls_the_next_contact(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    engine.accept("a1", offer.offer_id, T0 + 1)
    engine.enqueue(contact("c2"), T0 + 2)
    events = engine.complete("a1", "c1", "resolved", "refund issued", T0 + 10)
    done = of_type(events, ContactCompleted)[0]
    assert (done.disposition, done.summary) == ("resolved", "refund issued")
    assert offer_in(events).contact_id == "c2"
    assert engine.is_known("c1")
    assert of_type(engine.complete("a1", "c1", "x", "", T0 + 11), CommandRejected)[0].code == "unknown_contact"


def test_only_the_assigned_agent_may_complete(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    engine.accept(offer.agent_id, offer.offer_id, T0)
    other = "a2" if offer.agent_id == "a1" else "a1"
    assert of_type(engine.complete(other, "c1", "x", "", T0), CommandRejected)[0].code == "not_owner"


def test_wrap_up_holds_capacity_until_it_ends(engine_for: Callable[..., RoutingEngine]) -> None:
    engine = engine_for(wrap_up_s=30)
    online(engine, agent("a1", capacity={"email": 1}))
    engine.accept("a1", offer_in(engine.enqueue(contact("c1"), T0)).offer_id, T0)
    engine.enqueue(contact("c2"), T0 + 1)
    assert not of_type(engine.complete("a1", "c1", "done", "", T0 + 5), OfferMade)
    assert not of_type(engine.tick(T0 + 34), OfferMade)
    assert offer_in(engine.tick(T0 + 35)).contact_id == "c2"


def test_away_agent_gets_no_offers_and_pending_offer_is_rescinded(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    events = engine.set_presence(offer.agent_id, Presence.AWAY, "break", T0 + 1)
    assert of_type(events, OfferRescinded)[0].reason == "agent_away"
    assert offer_in(events).agent_id != offer.agent_id


def test_profile_change_that_makes_the_agent_unfit_rescinds_the_offer(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}), agent("a2", capacity={"email": 1}))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    assert engine.upsert_agent(agent(offer.agent_id, capacity={"email": 1}, languages=("en", "de")), T0) == []
    events = engine.upsert_agent(agent(offer.agent_id, capacity={"email": 0}), T0 + 1)
    assert of_type(events, OfferRescinded)[0].reason == "agent_profile_changed"
    assert offer_in(events).agent_id != offer.agent_id


def test_disconnect_rescinds_the_offer_and_reoffers_elsewhere(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    offer = offer_in(engine.enqueue(contact("c1"), T0))
    events = engine.agent_disconnected(offer.agent_id, T0 + 1)
    assert of_type(events, PresenceChanged)[0].presence is Presence.OFFLINE
    assert of_type(events, OfferRescinded)[0].offer_id == offer.offer_id
    assert offer_in(events).agent_id != offer.agent_id


def test_assigned_work_waits_through_the_grace_period_then_requeues(engine: RoutingEngine) -> None:
    online(engine, agent("a1"))
    engine.accept("a1", offer_in(engine.enqueue(contact("c1"), T0)).offer_id, T0)
    engine.agent_disconnected("a1", T0 + 10)
    assert engine.tick(T0 + 129) == []
    engine.upsert_agent(agent("a2"), T0 + 129)
    engine.agent_connected("a2", T0 + 129)
    events = engine.tick(T0 + 130)
    assert of_type(events, ContactRequeued)[0].reason == "agent_disconnected"
    assert offer_in(events).agent_id == "a2"
    assert engine.assignments_of("a1") == []


def test_reconnect_within_grace_keeps_the_assignments(engine: RoutingEngine) -> None:
    online(engine, agent("a1"))
    engine.accept("a1", offer_in(engine.enqueue(contact("c1"), T0)).offer_id, T0)
    engine.agent_disconnected("a1", T0 + 10)
    engine.agent_connected("a1", T0 + 60)
    assert not of_type(engine.tick(T0 + 500), ContactRequeued)
    assert engine.assignments_of("a1") == ["c1"]


def test_removed_agent_loses_offers_and_work_to_others(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 5}), agent("a2", capacity={"email": 1}))
    engine.upsert_agent(agent("a2", capacity={"email": 0}), T0)
    first = offer_in(engine.enqueue(contact("c1"), T0))
    assert first.agent_id == "a1"
    engine.accept("a1", first.offer_id, T0)
    engine.upsert_agent(agent("a2", capacity={"email": 1}), T0)
    events = engine.remove_agent("a1", T0 + 1)
    assert of_type(events, ContactRequeued)[0].reason == "agent_removed"
    assert offer_in(events).agent_id == "a2"


def test_unknown_agents_are_rejected(engine: RoutingEngine) -> None:
    assert of_type(engine.agent_connected("ghost", T0), CommandRejected)[0].code == "unknown_agent"
    assert of_type(engine.set_presence("ghost", Presence.AWAY, "", T0), CommandRejected)
    assert engine.agent_disconnected("ghost", T0) == []


def test_duplicate_enqueue_is_ignored(engine: RoutingEngine) -> None:
    engine.enqueue(contact("c1"), T0)
    assert engine.enqueue(contact("c1"), T0 + 1) == []
    assert engine.is_known("c1") and not engine.is_known("c2")


def test_decision_record_explains_candidates_filters_and_score(engine: RoutingEngine) -> None:
    online(
        engine,
        agent("a-best", skills={"general": 5}, languages=("hr",)),
        agent("a-weak", skills={"general": 2}, languages=("hr",)),
        agent("a-english", skills={"general": 5}, languages=("en",)),
        agent("a-full", skills={"general": 5}, languages=("hr",), capacity={"email": 0}),
        agent("a-other", queues=("billing",), languages=("hr",)),
    )
    engine.upsert_agent(agent("a-offline", skills={"general": 5}, languages=("hr",)), T0)
    offer = offer_in(engine.enqueue(contact("c1", language="hr", skills={"general": 3}), T0 + 30))
    decision = offer.decision
    assert decision.chosen_agent_id == "a-best"
    assert decision.candidates_considered == 6
    expected = {"membership": 1, "offline": 1, "capacity": 1, "language": 1, "skill": 1}
    assert dict(decision.filtered_out) == expected
    assert decision.candidates_considered == sum(expected.values()) + 1  # the funnel adds up: one eligible
    assert decision.score_components["proficiency"] == 5.0
    assert decision.score_components["idle_s"] == 30.0
    assert decision.relaxation_step == "base"
    assert "best proficiency fit 5.0" in decision.summary


def test_longest_idle_breaks_proficiency_ties(engine: RoutingEngine) -> None:
    engine.upsert_agent(agent("a1"), T0)
    engine.upsert_agent(agent("a2"), T0)
    engine.agent_connected("a2", T0)
    engine.agent_connected("a1", T0 + 10)
    assert offer_in(engine.enqueue(contact("c1"), T0 + 20)).agent_id == "a2"


def test_equal_scores_break_ties_by_agent_id(engine: RoutingEngine) -> None:
    online(engine, agent("b"), agent("a"), agent("c"))
    assert offer_in(engine.enqueue(contact("c1"), T0 + 5)).agent_id == "a"


def test_least_occupied_scoring_prefers_the_emptier_agent(engine: RoutingEngine) -> None:
    busy = agent("a1", queues=("billing", "general"), capacity={"email": 4})
    online(engine, busy)
    engine.accept("a1", offer_in(engine.enqueue(contact("g1"), T0)).offer_id, T0)
    online(engine, agent("a2", queues=("billing",), capacity={"email": 4}), now=T0 + 1)
    # a2 went idle more recently, but billing scores by occupancy.
    assert offer_in(engine.enqueue(contact("b1", queue="billing"), T0 + 2)).agent_id == "a2"


def test_waiting_contacts_are_pulled_by_priority_then_sla_then_arrival(engine: RoutingEngine) -> None:
    engine.upsert_agent(agent("a1", queues=("general", "vip"), capacity={"email": 1}), T0)
    engine.enqueue(contact("first"), T0)
    engine.enqueue(contact("second"), T0 + 1)
    engine.enqueue(contact("vip", queue="vip"), T0 + 2)
    engine.enqueue(contact("old-deadline", received_at=T0 - 1000), T0 + 3)
    order = []
    now = T0 + 4
    events = engine.agent_connected("a1", now)
    while made := of_type(events, OfferMade):
        order.append(made[0].contact_id)
        now += 1
        engine.accept("a1", made[0].offer_id, now)
        events = engine.complete("a1", made[0].contact_id, "done", "", now)
    assert order == ["vip", "old-deadline", "first", "second"]
