"""The shared Kafka I/O against a real broker: protobuf values, content type and trace context survive the trip."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer, ProtoProducer, ReadIncomplete, content_type_of
from contactrouting.topics import CONTACTS_INBOUND, ensure_topics
from contactrouting.v1 import contact_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from devstack.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _tracer_provider() -> None:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


def test_contact_event_round_trip_keeps_trace_context(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    ensure_topics(kafka_bootstrap, partitions=1, replication_factor=1)
    topic = f"test.kafka-io.{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test")
    event = contact_pb2.ContactEvent(event_id="e1", conversation_id="conv-1", body_text="Dobar dan")
    with trace.get_tracer("test").start_as_current_span("receive") as span:
        producer.publish_and_wait(topic, "conv-1", event)
        sent_trace_id = span.get_span_context().trace_id
    producer.close()

    consumer = ProtoConsumer(settings, {topic: contact_pb2.ContactEvent}, client_id="test", group_id="g-" + topic)
    records = []
    for _ in range(40):
        records.extend(consumer.poll(timeout_ms=500))
        if records:
            break
    consumer.close()

    assert len(records) == 1
    record = records[0]
    assert record.key == "conv-1"
    assert record.message == event
    assert trace.get_current_span(record.context).get_span_context().trace_id == sent_trace_id


def test_content_type_names_the_protobuf_message() -> None:
    assert content_type_of(contact_pb2.DeadLetter) == (
        "application/x-protobuf; messageType=contactrouting.v1.DeadLetter"
    )


def test_lag_counts_the_records_not_yet_consumed(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    topic = f"test.kafka-lag.{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test")
    for number in range(5):
        producer.publish_and_wait(topic, "conv-1", contact_pb2.ContactEvent(event_id=f"e{number}"))
    producer.close()

    consumer = ProtoConsumer(settings, {topic: contact_pb2.ContactEvent}, client_id="test", subscribe=False)
    consumer.assign_from_beginning()
    first: list[ConsumedRecord] = []
    for _ in range(40):
        first = consumer.poll(timeout_ms=500, max_records=2)
        if first:
            break
    lag_after_first_poll = sum(consumer.lag().values())
    rest: list[ConsumedRecord] = []
    for _ in range(40):
        rest.extend(consumer.poll(timeout_ms=500))
        if len(first) + len(rest) >= 5:
            break
    lag_at_end = sum(consumer.lag().values())
    consumer.close()

    assert len(first) == 2
    assert lag_after_first_poll == 3
    assert len(rest) == 3
    assert lag_at_end == 0


def test_read_to_end_yields_what_the_topic_held_when_the_read_began_and_ends(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    topic = f"test.read-to-end.{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test")
    for number in range(5):
        producer.publish_and_wait(topic, f"conv-{number}", contact_pb2.ContactEvent(event_id=f"e{number}"))
    consumer = ProtoConsumer(settings, {topic: contact_pb2.ContactEvent}, client_id="test", subscribe=False)
    seen = []
    try:
        for record in consumer.read_to_end(timeout_s=30):
            seen.append(record.message.event_id)
            if len(seen) == 1:  # published after the read began: not part of it
                producer.publish_and_wait(topic, "conv-late", contact_pb2.ContactEvent(event_id="late"))
    finally:
        consumer.close()
        producer.close()
    # The read ends although the topic grew meanwhile; what it had at the start is all there.
    assert {f"e{number}" for number in range(5)} <= set(seen) <= {*(f"e{number}" for number in range(5)), "late"}
    assert len(seen) == len(set(seen))


def test_read_to_end_refuses_to_return_part_of_a_topic(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    topic = f"test.read-to-end.{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test")
    producer.publish_and_wait(topic, "conv-1", contact_pb2.ContactEvent(event_id="e1"))
    producer.close()
    consumer = ProtoConsumer(settings, {topic: contact_pb2.ContactEvent}, client_id="test", subscribe=False)
    try:
        with pytest.raises(ReadIncomplete, match=f"{topic} not read to the end after 0s \\(1 records left\\)"):
            list(consumer.read_to_end(timeout_s=0))
    finally:
        consumer.close()


def test_a_producer_that_lost_a_delivery_renews_itself_and_publishes_again(tmp_path) -> None:
    """An outage long enough to expire a batch must not leave the producer stuck once the broker is back."""
    proxy_port = free_port()
    broker = EmbeddedBroker(free_port(), tmp_path / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TcpProxy(proxy_port, broker.port)
    proxy.start()
    settings = ServiceSettings(kafka_bootstrap_servers=broker.bootstrap_servers)
    ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
    producer = ProtoProducer(
        settings, client_id="test", delivery_timeout_ms=2000, request_timeout_ms=1900, max_block_ms=2000
    )
    event = contact_pb2.ContactEvent(event_id="e", conversation_id="c")
    try:
        producer.publish_and_wait(CONTACTS_INBOUND, "c", event)
        proxy.cut()
        with pytest.raises(KafkaError):
            producer.publish_and_wait(CONTACTS_INBOUND, "c", event, timeout_s=5)
        proxy.restore()
        deadline = time.monotonic() + 60
        while True:
            try:
                producer.publish_and_wait(CONTACTS_INBOUND, "c", event, timeout_s=5)
                break
            except KafkaError:
                assert time.monotonic() < deadline, "the producer never published again after the outage"
        while producer.renewals == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert producer.renewals == 1
        producer.publish_and_wait(CONTACTS_INBOUND, "c", event, timeout_s=10)
    finally:
        producer.close(timeout_s=1)
        proxy.stop()
        broker.stop()


def test_a_group_consumer_rides_out_an_outage_and_reads_what_came_after(tmp_path) -> None:
    proxy_port = free_port()
    broker = EmbeddedBroker(free_port(), tmp_path / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TcpProxy(proxy_port, broker.port)
    proxy.start()
    settings = ServiceSettings(kafka_bootstrap_servers=broker.bootstrap_servers)
    ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
    consumer = ProtoConsumer(settings, {CONTACTS_INBOUND: contact_pb2.ContactEvent}, client_id="t", group_id="g")
    producer = ProtoProducer(settings, client_id="test")
    try:
        producer.publish_and_wait(CONTACTS_INBOUND, "c", contact_pb2.ContactEvent(event_id="before"))
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while "before" not in seen and time.monotonic() < deadline:
            seen += [r.message.event_id for r in consumer.poll(300) if isinstance(r.message, contact_pb2.ContactEvent)]
        proxy.cut()
        outage_ends = time.monotonic() + 8
        assert consumer.commit() is False
        while time.monotonic() < outage_ends:
            assert consumer.poll(300) == []
        proxy.restore()
        producer.publish_and_wait(CONTACTS_INBOUND, "c", contact_pb2.ContactEvent(event_id="after"), timeout_s=30)
        deadline = time.monotonic() + 60
        while "after" not in seen and time.monotonic() < deadline:
            seen += [r.message.event_id for r in consumer.poll(300) if isinstance(r.message, contact_pb2.ContactEvent)]
        assert seen == ["before", "after"]
    finally:
        consumer.close()
        producer.close(timeout_s=1)
        proxy.stop()
        broker.stop()


def test_a_member_closed_mid_join_does_not_stall_the_group(kafka_bootstrap: str) -> None:
    """tansu never evicts a member that left while joining; closing finishes the join first."""
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    ensure_topics(kafka_bootstrap, partitions=1, replication_factor=1)
    group = f"g-{uuid.uuid4().hex[:8]}"
    first = ProtoConsumer(settings, {CONTACTS_INBOUND: contact_pb2.ContactEvent}, client_id="t1", group_id=group)
    first.poll(timeout_ms=100)
    first.close()
    second = ProtoConsumer(settings, {CONTACTS_INBOUND: contact_pb2.ContactEvent}, client_id="t2", group_id=group)
    try:
        deadline = time.monotonic() + 30
        while not second.raw_consumer.assignment() and time.monotonic() < deadline:
            second.poll(timeout_ms=200)
        assert second.raw_consumer.assignment(), "the group never assigned partitions to the next member"
    finally:
        second.close()


def test_a_publish_without_a_span_of_its_own_carries_the_current_span(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    topic = f"test.kafka-io.{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test")
    event = contact_pb2.ContactEvent(event_id="e2", conversation_id="conv-2")
    with trace.get_tracer("test").start_as_current_span("decide") as span:
        producer.publish(topic, "conv-2", event, span=False).get(timeout=10)
        sent = span.get_span_context()
    producer.close()

    consumer = ProtoConsumer(settings, {topic: contact_pb2.ContactEvent}, client_id="test", group_id="g-" + topic)
    records: list[ConsumedRecord] = []
    deadline = time.monotonic() + 20
    while not records and time.monotonic() < deadline:
        records.extend(consumer.poll(timeout_ms=500))
    consumer.close()

    assert [record.message for record in records] == [event]
    received = trace.get_current_span(records[0].context).get_span_context()
    assert (received.trace_id, received.span_id) == (sent.trace_id, sent.span_id)


def test_an_asynchronous_commit_is_where_the_group_resumes(kafka_bootstrap: str) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap)
    topic = f"test.kafka-commit.{uuid.uuid4().hex[:8]}"
    producer = ProtoProducer(settings, client_id="test")
    for number in range(3):
        producer.publish_and_wait(topic, "conv-1", contact_pb2.ContactEvent(event_id=f"e{number}"))
    producer.close()
    types = {topic: contact_pb2.ContactEvent}

    consumer = ProtoConsumer(settings, types, client_id="test", group_id="g-" + topic)
    records: list[ConsumedRecord] = []
    deadline = time.monotonic() + 20
    while len(records) < 3 and time.monotonic() < deadline:
        records.extend(consumer.poll(timeout_ms=500))
    failures: list[Exception] = []
    second = records[1]
    consumer.commit_async(
        {TopicPartition(topic, second.partition): OffsetAndMetadata(second.offset + 1, "", -1)},
        on_failed=failures.append,
    )
    consumer.poll(timeout_ms=500)  # the answer (and a failure's callback) arrives on a poll
    consumer.close()

    resumed = ProtoConsumer(settings, types, client_id="test", group_id="g-" + topic)
    again: list[ConsumedRecord] = []
    deadline = time.monotonic() + 20
    while not again and time.monotonic() < deadline:
        again.extend(resumed.poll(timeout_ms=500))
    resumed.close()

    assert len(records) == 3
    assert not failures
    assert [record.message for record in again] == [contact_pb2.ContactEvent(event_id="e2")]
