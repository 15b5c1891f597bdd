"""The router's Prometheus endpoint, scraped over real HTTP after real routing work."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.ports import free_port

from .harness import Desk, Kafka, RouterUnderTest, contact_event, logged_in, unique

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
