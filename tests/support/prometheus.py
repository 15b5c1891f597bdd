"""Reading a service's Prometheus scrape in tests: one metric's samples keyed by their labels."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


def scrape(port: int) -> str:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0)
    response.raise_for_status()
    return response.text


def samples(text: str, name: str) -> dict[Labels, float]:
    """Samples named `name` (e.g. `contacts_received_total`), keyed by their labels without the OTel scope labels."""
    found: dict[Labels, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                labels = frozenset((k, v) for k, v in sample.labels.items() if not k.startswith("otel_scope_"))
                found[labels] = sample.value
    return found


def labels(**pairs: str) -> Labels:
    return frozenset(pairs.items())
