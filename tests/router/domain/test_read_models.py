"""Live queue stats, queue position and ETA, as RoutingAdmin reports them."""

from __future__ import annotations

from services.router.domain import OfferMade, RoutingEngine

from .builders import T0, agent, contact, of_type, online


def stats_of(engine: RoutingEngine, queue: str, now: float):  # type: ignore[no-untyped-def]
    return next(view for view in engine.queue_stats(now) if view.queue == queue)


def test_waiting_count_and_longest_wait(engine: RoutingEngine) -> None:
    engine.enqueue(contact("c1"), T0)
    engine.enqueue(contact("c2"), T0 + 10)
    view = stats_of(engine, "general", T0 + 30)
    assert (view.waiting, view.longest_waiting_s) == (2, 30.0)
    assert stats_of(engine, "vip", T0 + 30).waiting == 0


def test_time_to_accept_and_sla_attainment(engine: RoutingEngine) -> None:
    online(engine, agent("a1", queues=("vip",), capacity={"email": 5}))
    first = of_type(engine.enqueue(contact("c1", queue="vip"), T0), OfferMade)[0]
    engine.accept("a1", first.offer_id, T0 + 10)
    second = of_type(engine.enqueue(contact("c2", queue="vip", received_at=T0 - 1000), T0 + 10), OfferMade)[0]
    engine.accept("a1", second.offer_id, T0 + 40)  # received 1040 s ago: past the 900 s VIP target
    view = stats_of(engine, "vip", T0 + 40)
    assert view.average_time_to_accept_s == 20.0
    assert view.sla_attainment_percent == 50.0


def test_available_agents_per_skill_and_language(engine: RoutingEngine) -> None:
    online(
        engine,
        agent("a1", skills={"billing": 4}, languages=("en", "hr"), queues=("billing",)),
        agent("a2", skills={"billing": 2}, languages=("hr",), queues=("billing",)),
        agent("a3", skills={"billing": 5}, languages=("de",), queues=("billing",), capacity={"email": 0}),
    )
    engine.upsert_agent(agent("a4", skills={"billing": 5}, queues=("billing",)), T0)  # not connected
    view = stats_of(engine, "billing", T0)
    assert dict(view.available_agents) == {"skill:billing": 1, "language:en": 1, "language:hr": 2}


def test_position_and_eta_follow_serving_order_and_accept_rate(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 1}))
    engine.accept("a1", of_type(engine.enqueue(contact("x"), T0), OfferMade)[0].offer_id, T0 + 60)
    engine.enqueue(contact("low"), T0 + 61)
    engine.enqueue(contact("high", priority=3), T0 + 62)
    assert engine.position("x", T0 + 62) is None  # assigned, not waiting
    high = engine.position("high", T0 + 62)
    low = engine.position("low", T0 + 62)
    assert high is not None and low is not None
    assert (high[0], low[0]) == (1, 2)
    assert 0 < high[1] < low[1]
    assert stats_of(engine, "general", T0 + 62).estimated_wait_s > low[1]


def test_position_of_unknown_contact_is_none(engine: RoutingEngine) -> None:
    assert engine.position("nope", T0) is None


def test_decisions_made_counts_matching_attempts(engine: RoutingEngine) -> None:
    engine.upsert_agent(agent("a1"), T0)
    engine.enqueue(contact("c1"), T0)
    assert engine.decisions_made == 1
    engine.agent_connected("a1", T0 + 1)
    assert engine.decisions_made == 2


def test_occupancy_per_channel_counts_logged_in_agents_only(engine: RoutingEngine) -> None:
    online(engine, agent("a1", capacity={"email": 4, "telegram": 2}), agent("a2", capacity={"email": 4}))
    engine.upsert_agent(agent("a3", capacity={"email": 8}), T0)  # known but never connected: offline
    offer = of_type(engine.enqueue(contact("c1"), T0), OfferMade)[0]
    engine.accept(offer.agent_id, offer.offer_id, T0 + 1)
    assert engine.occupancy() == {"email": 1 / 8, "telegram": 0.0}
