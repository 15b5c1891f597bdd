"""Durability through real processes: the router is killed (-9) or stopped mid-stream and restarted, and
routing.events alone must bring every contact back: none lost, none assigned twice."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

import pytest

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, routing_pb2
from devstack.ports import free_port

from .harness import AutoAgent, Desk, Kafka, RouterUnderTest, agent_profile, contact_event, events_of, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType


def accepted_counts(kafka: Kafka, contact_ids: set[str], timeout_s: float) -> collections.Counter[str]:
    """How often routing.events shows each contact accepted, once every contact was accepted (or time ran out)."""

    def accepted(records: list[ConsumedRecord]) -> collections.Counter[str]:
        return collections.Counter(
            r.message.contact_id
            for r in records
            if isinstance(r.message, routing_pb2.RoutingEvent)
            and r.message.type == RET.ROUTING_EVENT_TYPE_ACCEPTED
            and r.message.contact_id in contact_ids
        )

    records = kafka.read(
        ROUTING_EVENTS, routing_pb2.RoutingEvent, lambda rs: set(accepted(rs)) >= contact_ids, timeout_s
    )
    return accepted(records)


def test_kill_9_mid_stream_loses_no_contact_and_assigns_none_twice(
    router_factory: Callable[..., RouterUnderTest], kafka: Kafka
) -> None:
    skill = unique("skill")
    agent_ids = [unique("agent") for _ in range(3)]
    for agent_id in agent_ids:
        kafka.publish_agent(agent_profile(agent_id, skill, email_capacity=100))
    router = router_factory()
    router.start()
    agents = [AutoAgent(router.target, agent_id) for agent_id in agent_ids]
    assert all(agent.logged_in.wait(10) for agent in agents)

    contacts = [contact_event(skill) for _ in range(60)]

    def publish_all() -> None:
        for contact in contacts:
            kafka.publish_contact(contact)
            time.sleep(0.03)

    publishing = threading.Thread(target=publish_all)
    publishing.start()
    deadline = time.monotonic() + 30
    while sum(len(agent.assigned) for agent in agents) < 15:
        assert time.monotonic() < deadline, router.log_text()[-3000:]
        time.sleep(0.01)
    router.kill()  # mid-stream: contacts still arriving, offers in flight
    for agent in agents:
        agent.close()

    router.port = free_port()
    router.start()
    reconnected = [AutoAgent(router.target, agent_id) for agent_id in agent_ids]
    publishing.join()
    counts = accepted_counts(kafka, {c.contact_id for c in contacts}, timeout_s=60)
    for agent in reconnected:
        agent.close()

    assert set(counts) == {c.contact_id for c in contacts}, "every contact ends assigned"
    assert max(counts.values()) == 1, f"assigned twice: {[cid for cid, n in counts.items() if n > 1]}"
    holders = collections.defaultdict(set)
    for agent in [*agents, *reconnected]:
        for contact_id in agent.assigned:
            holders[contact_id].add(agent.agent_id)
    assert all(len(ids) == 1 for ids in holders.values()), "no contact was handed to two agents"
    before_kill = {cid for agent in agents for cid in agent.assigned}
    after_restart = {cid for agent in reconnected for cid in agent.assigned}
    assert before_kill <= after_restart, "reconnecting agents get their accepted contacts back"


def test_graceful_stop_rescinds_the_pending_offer_and_the_restart_offers_it_again(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    router = router_factory()
    router.start()
    desk = desks(router.target, agent_id)
    desk.next("login_accepted")
    event = contact_event(skill)
    kafka.publish_contact(event)
    offer = desk.next("offer")

    assert router.stop() == 0
    assert desk.next("offer_rescinded").offer_rescinded.offer_id == offer.offer.offer_id
    types = [
        e.type for e in events_of(kafka, event.contact_id, lambda ts: RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED in ts)
    ]
    assert types == [
        RET.ROUTING_EVENT_TYPE_QUEUED,
        RET.ROUTING_EVENT_TYPE_OFFERED,
        RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED,
    ]

    router.port = free_port()
    router.start()
    again = desks(router.target, agent_id)
    reoffer = again.next("offer")
    assert reoffer.offer.contact.contact_id == event.contact_id
    assert reoffer.offer.offer_id != offer.offer.offer_id
    log = router.log_text()
    assert '"waiting": 1' in log or '"waiting":1' in log, "the restart restored the contact as waiting"


def test_accepted_contacts_survive_a_restart_and_come_back_on_reconnect(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    router = router_factory()
    router.start()
    desk = desks(router.target, agent_id)
    desk.next("login_accepted")
    event = contact_event(skill)
    kafka.publish_contact(event)
    desk.accept(desk.next("offer"))
    desk.next("assignment")
    router.kill()

    router.port = free_port()
    router.start()
    again = desks(router.target, agent_id)
    again.next("login_accepted")
    handed_back = again.next("assignment")
    assert handed_back.assignment.contact_id == event.contact_id
    assert handed_back.assignment.contact == event
    assert again.maybe_next("offer", timeout_s=1.5) is None, "an assigned contact is never offered again"

    done = agent_desk_pb2.CompleteContact(contact_id=event.contact_id, disposition="solved")
    again.send(agent_desk_pb2.AgentMessage(complete=done))
    again.next("contact_closed")
