"""Rebuilding state after a restart: restored waiting and assigned contacts, grace from the first tick."""

from __future__ import annotations

from services.router.domain import ContactCompleted, ContactRequeued, OfferMade, RoutingEngine

from .builders import T0, agent, contact, make_policy, of_type, online


def test_restored_waiting_contact_is_pulled_by_the_first_agent_to_connect(engine: RoutingEngine) -> None:
    engine.restore_waiting(contact("c1"), T0 - 30)
    assert engine.is_known("c1")
    engine.upsert_agent(agent("a1"), T0)
    offer = of_type(engine.agent_connected("a1", T0), OfferMade)[0]
    assert offer.contact_id == "c1"


def test_restored_waiting_contact_relaxes_from_its_original_queue_time(engine: RoutingEngine) -> None:
    online(engine, agent("spare", queues=("overflow",)))
    engine.restore_waiting(contact("c1"), T0 - 400)
    offer = of_type(engine.tick(T0), OfferMade)[0]
    assert offer.decision.relaxation_step == "overflow"


def test_restored_assignment_returns_to_its_agent_on_reconnect(engine: RoutingEngine) -> None:
    engine.restore_assigned(contact("c1"), "a1", T0 - 50)
    engine.upsert_agent(agent("a1", capacity={"email": 1}), T0)
    assert engine.assignments_of("a1") == ["c1"]
    assert not of_type(engine.agent_connected("a1", T0 + 1), OfferMade)  # its one email slot is taken
    assert of_type(engine.complete("a1", "c1", "resolved", "", T0 + 2), ContactCompleted)[0].contact_id == "c1"


def test_restored_assignment_requeues_when_the_agent_never_returns() -> None:
    engine = RoutingEngine(make_policy(disconnect_grace_s=60))
    engine.restore_assigned(contact("c1"), "a1", T0 - 500)
    assert engine.tick(T0) == []  # the grace period starts now, not at the old assignment time
    assert not engine.tick(T0 + 59)
    online(engine, agent("a2"), now=T0 + 59)
    events = engine.tick(T0 + 60)
    assert of_type(events, ContactRequeued)[0].agent_id == "a1"
    assert of_type(events, OfferMade)[0].agent_id == "a2"


def test_restores_are_idempotent_and_emit_nothing(engine: RoutingEngine) -> None:
    engine.restore_waiting(contact("c1"), T0)
    engine.restore_waiting(contact("c1"), T0)
    engine.restore_assigned(contact("c1"), "a1", T0)
    assert engine.assignments_of("a1") == []
    assert engine.enqueue(contact("c1"), T0) == []


def test_remembered_history_makes_routing_sticky_after_restart(engine: RoutingEngine) -> None:
    online(engine, agent("a1", skills={"general": 1}), agent("a2", skills={"general": 5}))
    engine.remember_handled("cust-1", "conv-1", "a1", T0 - 10)
    offer = of_type(engine.enqueue(contact("c1", customer="cust-1", conversation="conv-1"), T0), OfferMade)[0]
    assert offer.agent_id == "a1"


def test_hot_reload_moves_contacts_of_a_removed_queue_to_the_default(engine: RoutingEngine) -> None:
    engine.enqueue(contact("c1", queue="billing"), T0)
    data_without_billing = make_policy(
        queues=[q for q in make_policy().model_dump()["queues"] if q["name"] != "billing"]
    )
    engine.replace_policy(data_without_billing)
    assert engine.policy is data_without_billing
    online(engine, agent("a1"), now=T0 + 1)
    assert engine.assignments_of("a1") == []
    assert engine.position("c1", T0 + 1) is None  # offered to a1 from the default queue
