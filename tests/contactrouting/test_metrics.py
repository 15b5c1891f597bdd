"""The metrics catalogue: typed labels, PII-safe label values, observed gauges fed by the owning service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, NumberDataPoint

from contactrouting.metrics import REDACTED_LABEL_VALUE, ConsumerLagLabels, Instruments, build_instruments, label_value


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def instruments(reader: InMemoryMetricReader) -> Iterator[Instruments]:
    provider = MeterProvider(metric_readers=[reader])
    yield build_instruments(provider.get_meter("test"))
    provider.shutdown()


def points(reader: InMemoryMetricReader, name: str) -> dict[frozenset[tuple[str, str]], object]:
    """Data points of one metric keyed by their label set."""
    data = reader.get_metrics_data()
    found: dict[frozenset[tuple[str, str]], object] = {}
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[frozenset((k, str(v)) for k, v in (point.attributes or {}).items())] = point
    return found


def value(point: object) -> float:
    assert isinstance(point, NumberDataPoint)
    return point.value


def test_counter_adds_per_label_set(instruments: Instruments, reader: InMemoryMetricReader) -> None:
    instruments.contacts_received.add(1, {"channel": "email", "language": "hr"})
    instruments.contacts_received.add(2, {"channel": "email", "language": "hr"})
    instruments.contacts_received.add(1, {"channel": "telegram", "language": "en"})

    found = points(reader, "contacts.received")

    assert {labels: value(point) for labels, point in found.items()} == {
        frozenset({("channel", "email"), ("language", "hr")}): 3,
        frozenset({("channel", "telegram"), ("language", "en")}): 1,
    }


def test_label_values_that_may_carry_pii_are_exported_as_other(
    instruments: Instruments, reader: InMemoryMetricReader
) -> None:
    instruments.dead_letters.add(1, {"source": "email_gateway.smtp", "reason": "ana.horvat@example.com"})
    instruments.smtp_rejects.add(1, {"reason": "Mailbox of Ana Horvat is full"})
    instruments.webhook_signature_failures.add(1, {"platform": "+385911234567", "verdict": "invalid"})

    dead = points(reader, "contacts.dead_letters")
    rejects = points(reader, "smtp.rejects")
    failures = points(reader, "webhook.signature_failures")

    assert list(dead) == [frozenset({("source", "email_gateway.smtp"), ("reason", REDACTED_LABEL_VALUE)})]
    assert list(rejects) == [frozenset({("reason", REDACTED_LABEL_VALUE)})]
    assert list(failures) == [frozenset({("platform", REDACTED_LABEL_VALUE), ("verdict", "invalid")})]


def test_undeclared_label_keys_are_dropped(instruments: Instruments, reader: InMemoryMetricReader) -> None:
    labels = {"queue": "billing", "customer_id": "c-42"}
    instruments.offers_timed_out.add(1, labels)  # type: ignore[arg-type]

    assert list(points(reader, "routing.offers.timed_out")) == [frozenset({("queue", "billing")})]


@pytest.mark.parametrize(
    ("raw", "exported"),
    [
        ("email", "email"),
        ("EMAIL", "email"),
        ("zh-hant", "zh-hant"),
        ("email_gateway.smtp", "email_gateway.smtp"),
        ("0", "0"),
        ("12", "12"),
        ("ana@example.com", REDACTED_LABEL_VALUE),
        ("+385 91 123 4567", REDACTED_LABEL_VALUE),
        ("0911234567", REDACTED_LABEL_VALUE),
        ("two words", REDACTED_LABEL_VALUE),
        ("", REDACTED_LABEL_VALUE),
        ("x" * 65, REDACTED_LABEL_VALUE),
    ],
)
def test_label_value(raw: str, exported: str) -> None:
    assert label_value(raw) == exported


def test_histogram_uses_the_wait_buckets(instruments: Instruments, reader: InMemoryMetricReader) -> None:
    instruments.time_to_accept.record(0.3, {"queue": "vip", "channel": "email"})
    instruments.time_to_accept.record(42.0, {"queue": "vip", "channel": "email"})

    (point,) = points(reader, "routing.time_to_accept").values()

    assert isinstance(point, HistogramDataPoint)
    assert point.count == 2
    assert point.sum == pytest.approx(42.3)
    assert point.explicit_bounds[:4] == (0.05, 0.1, 0.25, 0.5)
    assert point.bucket_counts[3] == 1  # 0.3 s lands in (0.25, 0.5]
    assert sum(point.bucket_counts) == 2


def test_observed_gauge_reads_the_registered_source_at_collection(
    instruments: Instruments, reader: InMemoryMetricReader
) -> None:
    depth = {"general": 3, "vip": 0}
    instruments.queue_depth.observe_with(lambda: [(n, {"queue": queue}) for queue, n in depth.items()])

    first = {labels: value(point) for labels, point in points(reader, "routing.queue.depth").items()}
    depth["general"] = 5
    second = {labels: value(point) for labels, point in points(reader, "routing.queue.depth").items()}

    assert first == {frozenset({("queue", "general")}): 3, frozenset({("queue", "vip")}): 0}
    assert second[frozenset({("queue", "general")})] == 5


def test_observed_gauge_without_a_source_reports_nothing(
    instruments: Instruments, reader: InMemoryMetricReader
) -> None:
    instruments.agents_by_presence.observe_with(lambda: [(2, {"presence": "available"})])
    instruments.agents_by_presence.observe_with(None)

    assert points(reader, "routing.agents") == {}


def test_gauge_keeps_the_last_value(instruments: Instruments, reader: InMemoryMetricReader) -> None:
    labels: ConsumerLagLabels = {"group": "router", "topic": "contacts.inbound", "partition": "0"}
    instruments.consumer_lag.set(7, labels)
    instruments.consumer_lag.set(2, labels)

    (point,) = points(reader, "kafka.consumer.lag").values()

    assert value(point) == 2
