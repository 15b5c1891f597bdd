"""The physical limit: raw kafka-python produce, then consume through a consumer group, on the run's broker.

Records are the size of a typical serialized ContactEvent and carry the same headers as our pipeline's records,
and the producer uses the same acks=all, idempotent settings as `contactrouting.kafka_io.ProtoProducer`, so the
pipeline is compared against the broker doing the same work, not a lighter one.
"""

from __future__ import annotations

import os
import time
import uuid
from functools import cache
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from bench.broker import BOOTSTRAP_ENV
from bench.standalone import main, progress
from bench.stats import percentile, rate
from contactrouting.config import ServiceSettings, load_settings
from contactrouting.kafka_io import content_type_of
from contactrouting.kafka_security import kafka_client_options
from contactrouting.v1 import contact_pb2

PARTITIONS = 3  # as devstack creates contacts.inbound
FULL = {"records": 100_000, "roundtrips": 2_000}
QUICK = {"records": 10_000, "roundtrips": 200}
# The same consumer settings as ProtoConsumer: the pipeline's fetch behaviour is the baseline's.
CONSUMER_OPTIONS: dict[str, Any] = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "request_timeout_ms": 11000,
    "max_poll_records": 500,
}


@cache
def security() -> dict[str, Any]:
    """The transport and credentials of the run's broker (KAFKA_SECURITY_PROTOCOL, ...), as the pipeline uses."""
    return kafka_client_options(load_settings(ServiceSettings))


def sample_record() -> tuple[bytes, list[tuple[str, bytes]]]:
    """A representative ContactEvent (a short support email) and the headers ProtoProducer attaches."""
    event = contact_pb2.ContactEvent(
        event_id=str(uuid.uuid4()),
        contact_id=str(uuid.uuid4()),
        conversation_id=str(uuid.uuid4()),
        channel=contact_pb2.CHANNEL_EMAIL,
        received_at=Timestamp(seconds=int(time.time())),
        customer=contact_pb2.Customer(
            customer_id="email:" + uuid.uuid4().hex, handle="ivana.kupac@example.net", display_name="Ivana Kupac"
        ),
        subject="Problem s računom za studeni",
        body_text="Dobar dan, imam problem s računom za ovaj mjesec. Iznos nije točan. Molim vas pomoć. Hvala, Ivana",
        language="hr",
        language_confidence=0.97,
        queue="billing",
        priority=1,
        source=contact_pb2.SourceRef(mailbox="billing@example.com", platform_message_id=f"<{uuid.uuid4()}@mail>"),
    )
    traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    headers = [
        ("content-type", content_type_of(contact_pb2.ContactEvent).encode()),
        ("traceparent", traceparent.encode()),
    ]
    return event.SerializeToString(), headers


def producer(bootstrap: str, linger_ms: int) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-baseline",
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        **security(),
    )


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-baseline-admin", **security())
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


def wait_for_assignment(consumer: KafkaConsumer, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError("consumer group join did not complete")
        consumer.poll(timeout_ms=200)


def measure_throughput(bootstrap: str, records: int) -> tuple[float, float]:
    """All records produced asynchronously then flushed; then all consumed by a group member that joined before
    the first record was produced, so its clock holds fetching and nothing else (no join, no prefetched data)."""
    topic = f"bench.baseline.{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, PARTITIONS)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        **CONSUMER_OPTIONS,
        **security(),
    )
    try:
        wait_for_assignment(consumer)
        produce_per_s = _produce(bootstrap, topic, records)
        progress(f"kafka_baseline: consuming {records:,} records through a consumer group")
        # kafka-python fetches only inside poll(), so nothing was read ahead while the producer ran.
        started = time.perf_counter()
        deadline = time.monotonic() + 120
        received = 0
        while received < records:
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumed {received} of {records} records")
            received += sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
        consume_s = time.perf_counter() - started
        consumer.commit()
    finally:
        consumer.close()
    return produce_per_s, rate(records, consume_s)


def _produce(bootstrap: str, topic: str, records: int) -> float:
    value, headers = sample_record()
    keys = [f"conversation-{i % 1000}".encode() for i in range(records)]
    progress(f"kafka_baseline: producing {records:,} records of {len(value)} bytes, acks=all")
    sender = producer(bootstrap, linger_ms=2)  # as ProtoProducer
    try:
        started = time.perf_counter()
        futures = [sender.send(topic, key=key, value=value, headers=headers) for key in keys]
        sender.flush()
        produce_s = time.perf_counter() - started
    finally:
        sender.close()
    failed = sum(1 for future in futures if future.failed())
    if failed:
        raise RuntimeError(f"{failed} of {records} records were not acknowledged")
    return rate(records, produce_s)


def measure_roundtrips(bootstrap: str, count: int) -> list[float]:
    """One record at a time: produce (acks=all, no linger), then wait until the group member receives it."""
    topic = f"bench.roundtrip.{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 1)
    value, headers = sample_record()
    sender = producer(bootstrap, linger_ms=0)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        **CONSUMER_OPTIONS,
        **security(),
    )
    progress(f"kafka_baseline: {count} single-record round trips")
    try:
        wait_for_assignment(consumer)
        sender.send(topic, value=b"warm-up", headers=headers).get(timeout=10)
        _drain_until(consumer, b"warm-up")
        samples = []
        for i in range(count):
            marker = f"{i:08d}".encode()
            started = time.perf_counter()
            sender.send(topic, key=marker, value=value, headers=headers)
            _drain_until(consumer, marker)
            samples.append((time.perf_counter() - started) * 1000)
        return samples
    finally:
        sender.close()
        consumer.close()


def _drain_until(consumer: KafkaConsumer, marker: bytes, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=100).values():
            if any(record.key == marker or record.value == marker for record in batch):
                return
    raise TimeoutError("a round-trip record never arrived")


def run(quick: bool) -> dict[str, float]:
    size = QUICK if quick else FULL
    bootstrap = os.environ[BOOTSTRAP_ENV]
    produce_per_s, consume_per_s = measure_throughput(bootstrap, size["records"])
    roundtrips = measure_roundtrips(bootstrap, size["roundtrips"])
    return {
        "produce_per_s": round(produce_per_s, 1),
        "consume_per_s": round(consume_per_s, 1),
        "roundtrip_p50_ms": round(percentile(roundtrips, 0.50), 3),
        "roundtrip_p99_ms": round(percentile(roundtrips, 0.99), 3),
    }


if __name__ == "__main__":
    main("kafka_baseline", run)
