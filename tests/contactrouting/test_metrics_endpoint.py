"""A process that sets metrics up like a service is scraped over real HTTP; the counter values are exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.pii import assert_no_pii

from devstack.ports import free_port

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).with_name("scripted_metrics_run.py")


@pytest.fixture(scope="module")
def scrape() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "METRICS_PORT": str(port), "LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready = process.stdout.readline()
        assert ready == f"ready {port}\n", process.stderr.read() if process.poll() is not None else ready
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0)
        response.raise_for_status()
        yield response.text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Samples named `name`, keyed by their labels without the OTel scope labels."""
    found: dict[frozenset[tuple[str, str]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                labels = frozenset((k, v) for k, v in sample.labels.items() if not k.startswith("otel_scope_"))
                found[labels] = sample.value
    return found


def test_counters_are_exact(scrape: str) -> None:
    assert samples(scrape, "contacts_received_total") == {
        frozenset({("channel", "email"), ("language", "hr")}): 3.0,
        frozenset({("channel", "telegram"), ("language", "en")}): 2.0,
    }
    assert samples(scrape, "contacts_dead_letters_total") == {
        frozenset({("source", "email_gateway.smtp"), ("reason", "unparseable_mime")}): 1.0
    }
    assert samples(scrape, "routing_offers_timed_out_total") == {frozenset({("queue", "billing")}): 1.0}
    assert samples(scrape, "smtp_rejects_total") == {frozenset({("reason", "other")}): 1.0}


def test_histogram_counts_and_buckets(scrape: str) -> None:
    labels = frozenset({("queue", "billing"), ("channel", "email")})
    buckets = samples(scrape, "routing_time_to_offer_seconds_bucket")

    assert samples(scrape, "routing_time_to_offer_seconds_count") == {labels: 2.0}
    assert samples(scrape, "routing_time_to_offer_seconds_sum") == {labels: pytest.approx(12.2)}
    assert buckets[labels | {("le", "0.1")}] == 0.0
    assert buckets[labels | {("le", "0.25")}] == 1.0
    assert buckets[labels | {("le", "10.0")}] == 1.0
    assert buckets[labels | {("le", "30.0")}] == 2.0


def test_observed_gauges_come_from_the_registered_sources(scrape: str) -> None:
    assert samples(scrape, "routing_queue_depth") == {
        frozenset({("queue", "general")}): 4.0,
        frozenset({("queue", "vip")}): 0.0,
    }
    assert samples(scrape, "routing_queue_longest_wait_seconds") == {frozenset({("queue", "general")}): 37.5}
    assert samples(scrape, "routing_agents") == {
        frozenset({("presence", "available")}): 2.0,
        frozenset({("presence", "away")}): 1.0,
    }


def test_the_service_is_named_and_no_pii_leaks(scrape: str) -> None:
    (target,) = samples(scrape, "target_info")

    assert ("service_name", "metrics-probe") in target
    assert_no_pii([scrape], ["ana.horvat@example.com", "ana.horvat"])
