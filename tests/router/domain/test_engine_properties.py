"""Property tests: random sequences of desk commands, contacts and clock ticks never break the routing invariants.

- never past capacity, never to an offline or ineligible agent;
- never two agents holding one contact (offered or assigned), never a contact both waiting and held;
- an agent is never offered a contact while a higher-priority waiting contact it could take is passed over.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.router.domain import AgentSpec, Presence, RoutingEngine
from services.router.domain.matching import Match
from services.router.domain.model import Agent, Contact, ContactState

from .builders import T0, contact, make_policy

QUEUES = ("general", "billing", "vip")
CHANNELS = ("email", "whatsapp")
LANGUAGES = ("en", "hr", "de")
AGENT_IDS = tuple(f"a{i}" for i in range(5))


class CheckedEngine(RoutingEngine):
    """Checks the serving-order invariant at the moment of every offer, before any state changes."""

    violations: list[str]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.violations = []

    def _offer(self, contact: Contact, match: Match, now: float) -> list[Any]:
        agent = match.agent
        if self._eligibility(contact).rejection(agent) is not None:
            self.violations.append(f"{contact.contact_id} offered to ineligible {agent.agent_id}")
        for waiting in self._waiting.all():
            if waiting is contact or waiting.priority <= contact.priority:
                continue
            if self._held_for_other(waiting, agent, now):
                continue
            if self._eligibility(waiting).rejection(agent) is None:
                self.violations.append(
                    f"{agent.agent_id} got {contact.contact_id} (p{contact.priority}) "
                    f"while {waiting.contact_id} (p{waiting.priority}) waited"
                )
        return super()._offer(contact, match, now)


agent_specs = st.builds(
    lambda agent_id, skills, languages, capacity, queues: AgentSpec(
        agent_id, skills, frozenset(languages), capacity, frozenset(queues), True
    ),
    st.sampled_from(AGENT_IDS),
    st.fixed_dictionaries({queue: st.integers(1, 5) for queue in QUEUES}),
    st.sets(st.sampled_from(LANGUAGES), min_size=1),
    st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3), min_size=1).filter(lambda c: sum(c.values()) > 0),
    st.sets(st.sampled_from((*QUEUES, "overflow")), min_size=1),
)

agent_ops = st.tuples(
    st.sampled_from(("connect", "disconnect", "away", "available", "accept", "reject", "complete", "remove")),
    st.sampled_from(AGENT_IDS),
)
contact_ops = st.tuples(
    st.just("enqueue"),
    st.sampled_from(QUEUES),
    st.sampled_from(CHANNELS),
    st.sampled_from((*LANGUAGES, "und")),
    st.integers(0, 3),
    st.sampled_from(("cust-1", "cust-2", "cust-3", "cust-4")),
)
tick_ops = st.tuples(st.just("tick"), st.sampled_from((0.5, 5.0, 21.0, 65.0, 130.0, 310.0)))
upsert_ops = st.tuples(st.just("upsert"), agent_specs)
# Contacts and desk commands dominate, so most sequences route, accept and complete real work.
operations = st.lists(
    st.one_of(contact_ops, agent_ops, contact_ops, agent_ops, tick_ops, upsert_ops), min_size=5, max_size=80
)


def pending_offer_of(engine: RoutingEngine, agent_id: str) -> str | None:
    agent = engine._agents.get(agent_id)
    return agent.offer_id if agent else None


def apply(engine: CheckedEngine, op: tuple[Any, ...], now: float, serial: int) -> None:
    kind = op[0]
    if kind == "enqueue":
        _, queue, channel, language, priority, customer = op
        request = contact(
            f"c{serial}", queue=queue, channel=channel, language=language, priority=priority, customer=customer
        )
        engine.enqueue(request, now)
    elif kind == "tick":
        engine.tick(now)
    elif kind == "upsert":
        engine.upsert_agent(op[1], now)
    else:
        agent_id = op[1]
        if kind == "connect":
            engine.agent_connected(agent_id, now)
        elif kind == "disconnect":
            engine.agent_disconnected(agent_id, now)
        elif kind == "away":
            engine.set_presence(agent_id, Presence.AWAY, "break", now)
        elif kind == "available":
            engine.set_presence(agent_id, Presence.AVAILABLE, "back", now)
        elif kind == "remove":
            engine.remove_agent(agent_id, now)
        elif kind in ("accept", "reject"):
            offer_id = pending_offer_of(engine, agent_id)
            if offer_id is not None:
                if kind == "accept":
                    engine.accept(agent_id, offer_id, now)
                else:
                    engine.reject(agent_id, offer_id, "busy", now)
        elif kind == "complete":
            held = engine.assignments_of(agent_id)
            if held:
                engine.complete(agent_id, held[0], "resolved", "", now)


def check_invariants(engine: CheckedEngine) -> None:
    assert not engine.violations, engine.violations
    holders: dict[str, str] = {}
    for agent in engine._agents.values():
        held: dict[str, int] = {}
        for contact_id in agent.assigned:
            contact = engine._contacts[contact_id]
            assert contact.state is ContactState.ASSIGNED and contact.agent_id == agent.agent_id
            assert contact_id not in holders, f"{contact_id} held by {holders[contact_id]} and {agent.agent_id}"
            holders[contact_id] = agent.agent_id
            held[contact.channel] = held.get(contact.channel, 0) + 1
        if agent.offer_id is not None:
            offer = engine._offers.get(agent.offer_id)
            assert offer is not None and offer.agent_id == agent.agent_id
            contact = engine._contacts[offer.contact_id]
            assert contact.state is ContactState.OFFERED and contact.offer_id == offer.offer_id
            assert offer.contact_id not in holders, f"{offer.contact_id} offered to two agents"
            holders[offer.contact_id] = agent.agent_id
            held[contact.channel] = held.get(contact.channel, 0) + 1
            assert agent.presence is Presence.AVAILABLE and agent.spec.active, "offer held by unavailable agent"
        wrapping = sum(1 for w in engine._wrap_ups if w[2] == agent.agent_id)
        assert sum(held.values()) + wrapping == sum(agent.load.values())
        if agent.offer_id is not None:
            offered_channel = engine._contacts[engine._offers.get(agent.offer_id).contact_id].channel  # type: ignore[union-attr]
            assert agent.load[offered_channel] <= agent.spec.capacity.get(offered_channel, 0), "offer past capacity"
    for contact in engine._contacts.values():
        waiting = contact.contact_id in engine._waiting
        assert waiting == (contact.state is ContactState.WAITING), f"{contact.contact_id} {contact.state}"
        if contact.state is ContactState.OFFERED:
            assert contact.contact_id in holders


def no_idle_match(engine: CheckedEngine, now: float) -> None:
    """After every step: no available agent with room sits idle while a contact it may take waits."""
    for agent in engine._agents.values():
        if agent.offer_id is not None:
            continue
        for waiting in engine._waiting.all():
            if engine._held_for_other(waiting, agent, now):
                continue
            assert engine._eligibility(waiting).rejection(agent) is not None, (
                f"{agent.agent_id} idle while {waiting.contact_id} waits"
            )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(agent_specs, min_size=2, max_size=5, unique_by=lambda s: s.agent_id), ops=operations)
def test_random_event_sequences_keep_the_routing_invariants(specs: list[AgentSpec], ops: list[tuple[Any, ...]]) -> None:
    engine = CheckedEngine(make_policy(wrap_up_s=4, disconnect_grace_s=60))
    now = T0
    for spec in specs:
        engine.upsert_agent(spec, now)
        engine.agent_connected(spec.agent_id, now)
    for serial, op in enumerate(ops):
        now += op[1] if op[0] == "tick" else 0.25
        apply(engine, op, now, serial)
        check_invariants(engine)
        no_idle_match(engine, now)
    offers = engine._offers._issued
    event(f"offers made: {'0' if offers == 0 else '1-5' if offers <= 5 else '6+'}")


def test_checked_engine_reports_an_offer_that_skips_a_higher_priority_contact() -> None:
    """The order check itself can fail: force an offer past a waiting higher-priority contact."""
    engine = CheckedEngine(make_policy())
    spec = AgentSpec(
        "a1", {"general": 3, "vip": 3}, frozenset({"en"}), {"email": 2}, frozenset({"general", "vip"}), True
    )
    engine.upsert_agent(spec, T0)
    engine.enqueue(contact("vip", queue="vip"), T0)
    engine.enqueue(contact("low"), T0)
    agent: Agent = engine._agents["a1"]
    agent.presence = Presence.AVAILABLE
    low = engine._contacts["low"]
    from services.router.domain.matching import pulled_decision

    engine._offer(low, pulled_decision(agent, engine._eligibility(low), "longest_idle", False, T0), T0)
    assert engine.violations and "while vip" in engine.violations[0]
