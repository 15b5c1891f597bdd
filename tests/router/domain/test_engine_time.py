"""Time-driven routing: relaxation steps at their times, aging, SLA escalation and sticky routing."""

from __future__ import annotations

from collections.abc import Callable

from services.router.domain import (
    ContactAbandoned,
    ContactEscalated,
    ContactQueued,
    OfferMade,
    Presence,
    RoutingEngine,
)

from .builders import T0, agent, contact, of_type, online


def test_lower_proficiency_step_applies_at_its_time(engine: RoutingEngine) -> None:
    online(engine, agent("junior", skills={"billing": 2}, queues=("billing",)))
    assert not of_type(engine.enqueue(contact("c1", queue="billing"), T0), OfferMade)
    assert not of_type(engine.tick(T0 + 59), OfferMade)
    offer = of_type(engine.tick(T0 + 60), OfferMade)[0]
    assert offer.agent_id == "junior"
    assert offer.decision.relaxation_step == "lower_proficiency"


def test_overflow_step_widens_to_the_overflow_group(engine: RoutingEngine) -> None:
    online(engine, agent("spare", queues=("overflow",)))
    engine.enqueue(contact("c1"), T0)
    assert not of_type(engine.tick(T0 + 299), OfferMade)
    offer = of_type(engine.tick(T0 + 300), OfferMade)[0]
    assert (offer.agent_id, offer.decision.relaxation_step) == ("spare", "overflow")


def test_fallback_language_step_marks_needs_translation(engine: RoutingEngine) -> None:
    online(engine, agent("english", languages=("en",)))
    engine.enqueue(contact("c1", language="sk"), T0)
    assert not of_type(engine.tick(T0 + 599), OfferMade)
    offer = of_type(engine.tick(T0 + 600), OfferMade)[0]
    assert offer.needs_translation
    assert offer.decision.relaxation_step == "fallback_language"


def test_agent_freeing_capacity_pulls_a_relaxed_contact(engine: RoutingEngine) -> None:
    engine.upsert_agent(agent("english", languages=("en",)), T0)
    engine.enqueue(contact("c1", language="de"), T0)
    engine.tick(T0 + 600)
    offer = of_type(engine.agent_connected("english", T0 + 601), OfferMade)[0]
    assert offer.needs_translation


def test_priority_ages_with_waiting_time(engine: RoutingEngine) -> None:
    engine.upsert_agent(agent("a1", capacity={"email": 1}, queues=("general", "billing")), T0)
    engine.enqueue(contact("old", priority=0), T0)
    engine.enqueue(contact("new", priority=2), T0 + 239)
    engine.tick(T0 + 240)  # "old" aged +2: equal priority, earlier deadline wins
    assert of_type(engine.agent_connected("a1", T0 + 240), OfferMade)[0].contact_id == "old"


def test_sla_at_risk_then_breach_escalate_once_each(engine_for: Callable[..., RoutingEngine]) -> None:
    engine = engine_for(aging={"every_s": 10_000, "points": 0, "max_boost": 0})
    engine.enqueue(contact("c1", queue="vip"), T0)
    assert not of_type(engine.tick(T0 + 719), ContactEscalated)
    at_risk = of_type(engine.tick(T0 + 720), ContactEscalated)
    assert [(e.reason, e.priority) for e in at_risk] == [("sla_at_risk", 12)]
    assert not of_type(engine.tick(T0 + 800), ContactEscalated)
    breached = of_type(engine.tick(T0 + 900), ContactEscalated)
    assert [(e.reason, e.priority) for e in breached] == [("sla_breached", 17)]
    assert not of_type(engine.tick(T0 + 2000), ContactEscalated)


def test_escalated_contact_is_served_before_older_equal_contacts(engine_for: Callable[..., RoutingEngine]) -> None:
    engine = engine_for(aging={"every_s": 10_000, "points": 0, "max_boost": 0})
    engine.upsert_agent(agent("a1", capacity={"whatsapp": 1}), T0)
    engine.enqueue(contact("early", channel="whatsapp", received_at=T0), T0)
    engine.enqueue(contact("late-at-risk", channel="whatsapp", received_at=T0 - 3000), T0 + 1)
    engine.enqueue(contact("later", channel="whatsapp", received_at=T0 - 1), T0 + 2)
    engine.tick(T0 + 3)
    assert of_type(engine.agent_connected("a1", T0 + 3), OfferMade)[0].contact_id == "late-at-risk"


def test_sticky_previous_agent_wins_when_eligible(engine: RoutingEngine) -> None:
    online(engine, agent("a1", skills={"general": 1}), agent("a2", skills={"general": 5}))
    engine.remember_handled("cust-9", "conv-old", "a1", T0 - 100)
    offer = of_type(engine.enqueue(contact("c1", customer="cust-9"), T0), OfferMade)[0]
    assert offer.agent_id == "a1"
    assert offer.decision.summary.startswith("sticky")
    assert offer.decision.score_components["sticky"] == 1.0


def test_sticky_history_expires_after_the_window(engine: RoutingEngine) -> None:
    online(engine, agent("a1", skills={"general": 1}), agent("a2", skills={"general": 5}))
    engine.remember_handled("cust-9", "conv-old", "a1", T0 - 3601)
    assert of_type(engine.enqueue(contact("c1", customer="cust-9"), T0), OfferMade)[0].agent_id == "a2"


def test_conversation_history_comes_from_accepted_contacts(engine: RoutingEngine) -> None:
    online(engine, agent("a1", skills={"general": 1}), agent("a2", skills={"general": 5}))
    engine.upsert_agent(agent("a2", skills={"general": 5}, capacity={}), T0)
    first = of_type(engine.enqueue(contact("c1", conversation="conv-1"), T0), OfferMade)[0]
    engine.accept("a1", first.offer_id, T0)
    engine.complete("a1", "c1", "done", "", T0 + 1)
    engine.upsert_agent(agent("a2", skills={"general": 5}), T0 + 2)
    follow_up = of_type(engine.enqueue(contact("c2", conversation="conv-1"), T0 + 3), OfferMade)[0]
    assert follow_up.agent_id == "a1"


def test_contact_waits_for_busy_previous_agent_then_goes_to_others(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}), agent("a2"))
    engine.upsert_agent(agent("a2", capacity={"email": 0}), T0)
    busy = of_type(engine.enqueue(contact("x"), T0), OfferMade)[0]
    engine.accept("a1", busy.offer_id, T0)
    engine.upsert_agent(agent("a2"), T0)  # a2 has room again but pulls nothing yet
    engine.remember_handled("cust-9", "conv-9", "a1", T0)
    assert not of_type(engine.enqueue(contact("c1", customer="cust-9"), T0 + 1), OfferMade)
    assert not of_type(engine.set_presence("a2", Presence.AVAILABLE, "ready", T0 + 2), OfferMade)
    assert not of_type(engine.tick(T0 + 30), OfferMade)
    assert of_type(engine.tick(T0 + 31), OfferMade)[0].agent_id == "a2"


def test_previous_agent_freeing_capacity_within_the_wait_gets_the_contact(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}), agent("a2", capacity={"email": 0}))
    busy = of_type(engine.enqueue(contact("x"), T0), OfferMade)[0]
    engine.accept("a1", busy.offer_id, T0)
    engine.remember_handled("cust-9", "conv-9", "a1", T0)
    engine.enqueue(contact("c1", customer="cust-9"), T0 + 1)
    offer = of_type(engine.complete("a1", "x", "done", "", T0 + 10), OfferMade)[0]
    assert (offer.contact_id, offer.agent_id) == ("c1", "a1")


def test_offline_previous_agent_is_not_waited_for(engine: RoutingEngine) -> None:
    online(engine, agent("a2"))
    engine.upsert_agent(agent("a1"), T0)
    engine.remember_handled("cust-9", "conv-9", "a1", T0)
    assert of_type(engine.enqueue(contact("c1", customer="cust-9"), T0 + 1), OfferMade)[0].agent_id == "a2"


def test_queued_event_reports_queue_priority_and_deadline(engine: RoutingEngine) -> None:
    queued = of_type(engine.enqueue(contact("c1", queue="vip", channel="telegram", priority=1), T0 + 5), ContactQueued)
    assert (queued[0].queue, queued[0].priority, queued[0].sla_deadline) == ("vip", 11, T0 + 900)


def test_contacts_held_for_a_sticky_agent_go_to_others_when_it_goes_offline(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}), agent("a2", capacity={"email": 0}))
    engine.accept("a1", of_type(engine.enqueue(contact("x"), T0), OfferMade)[0].offer_id, T0)
    engine.upsert_agent(agent("a2"), T0)
    engine.remember_handled("cust-9", "conv-9", "a1", T0)
    assert not of_type(engine.enqueue(contact("c1", customer="cust-9"), T0 + 1), OfferMade)
    offer = of_type(engine.agent_disconnected("a1", T0 + 2), OfferMade)[0]
    assert (offer.contact_id, offer.agent_id) == ("c1", "a2")


def test_a_sticky_agent_who_rejects_releases_the_contact_to_others(engine: RoutingEngine) -> None:
    online(engine, agent("a1"), agent("a2"))
    engine.remember_handled("cust-9", "conv-9", "a1", T0)
    first = of_type(engine.enqueue(contact("c1", customer="cust-9"), T0), OfferMade)[0]
    assert first.agent_id == "a1"
    assert of_type(engine.reject("a1", first.offer_id, "busy", T0 + 1), OfferMade)[0].agent_id == "a2"


def test_sticky_hold_lists_do_not_grow_with_served_contacts(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}), agent("a2", capacity={"email": 1}))
    engine.remember_handled("cust-9", "conv-9", "a1", T0)
    engine.upsert_agent(agent("a1", capacity={"email": 0}), T0)
    engine.enqueue(contact("c1", customer="cust-9"), T0)  # held for a1, who has no room
    assert engine._held == {"a1": {"c1"}}
    engine.tick(T0 + 30)  # the hold ends and c1 goes to a2
    assert engine._held == {}


def test_superseded_waiting_room_entries_are_swept(engine_for: Callable[..., RoutingEngine]) -> None:
    from services.router.domain import queues

    engine = engine_for(aging={"every_s": 1, "points": 1, "max_boost": 100_000})
    for i in range(50):
        engine.enqueue(contact(f"c{i}", language="sk"), T0)  # nobody can take them: they are re-filed every second
    for second in range(1, 400):
        engine.tick(T0 + second)
    room = engine._waiting
    entries = sum(len(heap) for by_skill in room._buckets.values() for h in by_skill.values() for heap in h.values())
    assert entries <= queues.COMPACT_AFTER + 4 * 50  # without sweeps: 50 contacts x 2 groups x ~400 re-filings


DAY_S = 24 * 3600.0


def test_a_contact_still_waiting_when_its_reply_window_closes_is_abandoned(
    engine_for: Callable[..., RoutingEngine],
) -> None:
    engine = engine_for(reply_window_s={"social": DAY_S})
    engine.enqueue(contact("dm", channel="messenger"), T0)
    engine.enqueue(contact("mail", channel="email"), T0)

    assert not of_type(engine.tick(T0 + DAY_S - 1), ContactAbandoned)
    [abandoned] = of_type(engine.tick(T0 + DAY_S), ContactAbandoned)

    assert (abandoned.contact_id, abandoned.queue, abandoned.reason) == ("dm", "general", "reply_window_closed")
    assert engine.is_known("dm") and engine.position("dm", T0 + DAY_S) is None
    assert [q.waiting for q in engine.queue_stats(T0 + DAY_S) if q.queue == "general"] == [1]  # the mail waits on
    # An agent arriving later is offered the mail, never the contact nobody can answer any more.
    offers = of_type(online(engine, agent("a1", capacity={"email": 5, "messenger": 5}), now=T0 + DAY_S + 1), OfferMade)
    assert [offer.contact_id for offer in offers] == ["mail"]


def test_a_message_older_than_its_window_is_abandoned_on_arrival(engine_for: Callable[..., RoutingEngine]) -> None:
    engine = engine_for(reply_window_s={"whatsapp": DAY_S})
    online(engine, agent("a1", capacity={"whatsapp": 3}))

    events = engine.enqueue(contact("late", channel="whatsapp", received_at=T0 - DAY_S - 60), T0)

    assert [type(event) for event in events] == [ContactQueued, ContactAbandoned]
    assert engine.enqueue(contact("late", channel="whatsapp", received_at=T0 - DAY_S - 60), T0 + 1) == []


def test_an_agent_freeing_up_never_pulls_a_contact_whose_window_closed_before_the_tick(
    engine_for: Callable[..., RoutingEngine],
) -> None:
    engine = engine_for(reply_window_s={"messenger": DAY_S})
    engine.enqueue(contact("dm", channel="messenger"), T0)

    # The window closed a moment ago; no tick has run since.
    events = online(engine, agent("a1", capacity={"messenger": 3}), now=T0 + DAY_S + 0.1)

    assert not of_type(events, OfferMade)
    assert [e.contact_id for e in of_type(engine.tick(T0 + DAY_S + 0.2), ContactAbandoned)] == ["dm"]
