"""The router's Prometheus endpoint, scraped over real HTTP after real routing work."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from support.prometheus import Labels, labels, scrape

from contactrouting.topics import CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from devstack.ports import free_port

from .harness import Desk, Kafka, RouterUnderTest, agent_profile, contact_event, logged_in, unique

pytestmark = pytest.mark.integration


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(
            (key, value) for key, value in sample.labels.items() if not key.startswith("otel_scope_")
        ): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_routing_latency_sla_queue_and_agent_figures_are_exported(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    metrics_port = free_port()
    router = router_factory(extra_env={"METRICS_PORT": str(metrics_port)})
    router.start()
    skill = unique("skill")
    desk = logged_in(router, desks, kafka, skill)
    kafka.publish_contact(contact_event(skill))
    desk.accept(desk.next("offer"))
    desk.next("assignment")
    kafka.publish_contact(contact_event(unique("nobody-has-this-skill")))

    def scrape() -> str:
        return httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text

    deadline = time.monotonic() + 15
    while not samples(text := scrape(), "routing_queue_depth").get(frozenset({("queue", "general")})):
        assert time.monotonic() < deadline, text
        time.sleep(0.3)

    general_email = frozenset({("queue", "general"), ("channel", "email")})
    assert samples(text, "routing_time_to_offer_seconds_count")[general_email] >= 1
    assert samples(text, "routing_time_to_accept_seconds_count")[general_email] >= 1
    assert samples(text, "routing_sla_outcomes_total")[frozenset({("queue", "general"), ("outcome", "met")})] >= 1
    assert samples(text, "routing_agents")[frozenset({("presence", "available")})] >= 1
    lag = samples(text, "kafka_consumer_lag")
    assert {dict(labels)["topic"] for labels in lag} == {"contacts.inbound"}


OFFER_TIMEOUT_S = 5
POLICY = """
default_queue: general
offer_timeout_s: {offer_timeout_s}
disconnect_grace_s: 120
queues:
  - name: general
    sla_s: {{default: 3600}}
  - name: {queue}
    sla_s: {{default: 3600}}
"""


def member_of(queue: str, router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka, skill: str) -> Desk:
    """A logged-in agent of `queue` only."""
    profile = agent_profile(unique("agent"), skill)
    profile.queues[:] = [queue]
    kafka.publish_agent(profile)
    deadline = time.monotonic() + 15
    while True:  # the router follows agents.profiles live; the profile may land a moment after we publish it
        desk = desks(router.target, profile.agent_id)
        first = desk.incoming.get(timeout=10)
        if first.WhichOneof("kind") == "login_accepted":
            return desk
        assert first.error.code == "unknown_agent" and time.monotonic() < deadline, first
        time.sleep(0.2)


def scrape_until(port: int, done: Callable[[str], bool], timeout_s: float = 15.0) -> str:
    deadline = time.monotonic() + timeout_s
    while not done(text := scrape(port)):
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    return text


def test_a_scripted_run_is_counted_exactly(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    """One contact offered and accepted, one whose offer times out (the agent goes away, the contact waits),
    one record that is not a contact and one that cannot be decoded."""
    queue = unique("metrics")
    metrics_port = free_port()
    router = router_factory(extra_env={"METRICS_PORT": str(metrics_port)})
    router.write_policy(POLICY.format(offer_timeout_s=OFFER_TIMEOUT_S, queue=queue))
    router.start()
    skill = unique("skill")
    desk = member_of(queue, router, desks, kafka, skill)

    accepted = contact_event(skill)
    accepted.queue = queue
    kafka.publish_contact(accepted)
    desk.accept(offer := desk.next("offer"))
    assert offer.offer.contact.contact_id == accepted.contact_id
    desk.next("assignment")

    ignored = contact_event(skill)
    ignored.queue = queue
    kafka.publish_contact(ignored)
    assert desk.next("offer").offer.contact.contact_id == ignored.contact_id  # and left to time out

    kafka.publish_contact(contact_pb2.ContactEvent(event_id=unique("event"), queue=queue))  # no contact_id
    raw = KafkaProducer(bootstrap_servers=kafka.settings.kafka_bootstrap_servers)
    try:  # field 1 claims five bytes and has two: not a ContactEvent
        raw.send(CONTACTS_INBOUND, key=b"junk", value=b"\x0a\x05ab").get(timeout=10)
    finally:
        raw.close()

    mine: Labels = labels(queue=queue)
    text = scrape_until(
        metrics_port,
        lambda t: (
            samples(t, "routing_offers_timed_out_total").get(mine) == 1.0
            and samples(t, "routing_queue_depth").get(mine) == 1.0
            and sum(samples(t, "contacts_dead_letters_total").values()) == 2.0
        ),
        timeout_s=OFFER_TIMEOUT_S + 15,
    )

    email = labels(queue=queue, channel="email")
    assert samples(text, "routing_time_to_offer_seconds_count")[email] == 2.0
    assert samples(text, "routing_time_to_accept_seconds_count")[email] == 1.0
    assert samples(text, "routing_sla_outcomes_total") == {labels(queue=queue, outcome="met"): 1.0}
    assert samples(text, "routing_sla_attainment")[mine] == 1.0  # the one accepted contact met its SLA
    assert samples(text, "routing_offers_timed_out_total") == {mine: 1.0}
    assert samples(text, "contacts_dead_letters_total") == {
        labels(source="router", reason="missing_contact_id"): 1.0,
        labels(source="router", reason="undecodable"): 1.0,
    }
    assert samples(text, "routing_queue_depth")[mine] == 1.0
    assert samples(text, "routing_queue_longest_wait_seconds")[mine] > 0
    # The agent missed an offer: the router set it away.
    assert samples(text, "routing_agents") == {
        labels(presence="available"): 0.0,
        labels(presence="away"): 1.0,
        labels(presence="offline"): 0.0,
    }
    # One email assigned out of the away (not offline) agent's 5 email and 3 Telegram slots.
    assert samples(text, "routing_agent_occupancy") == {labels(channel="email"): 0.2, labels(channel="telegram"): 0.0}
    lag = samples(text, "kafka_consumer_lag")  # everything published was consumed
    assert lag and set(lag.values()) == {0.0}, lag
    assert {(dict(key)["group"], dict(key)["topic"]) for key in lag} == {("router", "contacts.inbound")}
    (target,) = samples(text, "target_info")
    assert ("service_name", "router") in target
