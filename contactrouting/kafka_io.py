"""Kafka I/O with protobuf values, a content-type header and W3C trace context in the headers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from google.protobuf.message import DecodeError, Message
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata, RecordMetadata
from kafka.structs import OffsetAndMetadata
from opentelemetry import context as otel_context
from opentelemetry import trace

from contactrouting.config import ServiceSettings
from contactrouting.kafka_security import kafka_client_options
from contactrouting.tracing import context_from_kafka_headers, kafka_headers

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)


def content_type_of(message_type: type[Message]) -> str:
    return f"application/x-protobuf; messageType={message_type.DESCRIPTOR.full_name}"


_content_types: dict[type, str] = {}  # by message type: sent with every record, built once per type


class ProtoProducer:
    """An idempotent, acks=all producer; each publish is a PRODUCER span (unless asked not to be) whose context rides
    in the headers."""

    def __init__(self, settings: ServiceSettings, client_id: str, **overrides: Any) -> None:
        options: dict[str, Any] = {
            "bootstrap_servers": settings.kafka_bootstrap_servers,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": 2,
            "request_timeout_ms": settings.kafka_request_timeout_ms,
            "max_block_ms": settings.kafka_request_timeout_ms,
            **kafka_client_options(settings),
        }
        options.update(overrides)
        self._options = options
        self._producer = KafkaProducer(**options)
        self._lock = threading.Lock()
        self._renewing = False
        self._closed = threading.Event()
        self.renewals = 0

    def publish(
        self, topic: str, key: str | None, message: Message | None, *, span: bool = True
    ) -> FutureRecordMetadata:
        """Send one record; `message=None` is a tombstone. The returned future resolves on broker ack.

        `span=False` skips the PRODUCER span: the record's traceparent is then the current span, for callers that
        publish several records inside a span that already names the work (a span costs tens of microseconds).
        """
        if not span:
            return self._send(topic, key, message)
        with tracer.start_as_current_span(f"{topic} publish", kind=trace.SpanKind.PRODUCER) as producer_span:
            producer_span.set_attribute("messaging.system", "kafka")
            producer_span.set_attribute("messaging.destination.name", topic)
            return self._send(topic, key, message)

    def _send(self, topic: str, key: str | None, message: Message | None) -> FutureRecordMetadata:
        content_type = "tombstone"
        if message is not None:
            message_type = type(message)
            content_type = _content_types.get(message_type) or _content_types.setdefault(
                message_type, content_type_of(message_type)
            )
        producer = self._producer
        future = producer.send(
            topic,
            key=key.encode() if key is not None else None,
            value=message.SerializeToString() if message is not None else None,
            headers=kafka_headers(content_type),
        )
        future.add_errback(self._on_delivery_failed, producer)
        return future

    def _on_delivery_failed(self, failed: KafkaProducer, error: Exception) -> None:
        """Renew the producer after a lost delivery.

        An idempotent producer whose batch expired, or whose broker lost its producer state, can keep that
        partition blocked for good (it waits for a sequence that never comes); a fresh producer starts fresh
        sequences. Runs on the client's I/O thread, so the (possibly slow) renewal gets a thread of its own.
        """
        with self._lock:
            if failed is not self._producer or self._renewing or self._closed.is_set():
                return
            self._renewing = True
        log.warning("kafka_delivery_failed", error=type(error).__name__)
        threading.Thread(target=self._renew, args=(failed,), name="producer-renew", daemon=True).start()

    def _renew(self, failed: KafkaProducer) -> None:
        while not self._closed.is_set():
            try:
                fresh = KafkaProducer(**self._options)  # waits for the broker to answer
                break
            except KafkaError:
                self._closed.wait(1.0)
        else:
            return
        with self._lock:
            self._producer, self._renewing = fresh, False
            self.renewals += 1
        log.warning("kafka_producer_renewed", renewals=self.renewals)
        failed.close(timeout=1)

    def publish_and_wait(
        self, topic: str, key: str | None, message: Message | None, timeout_s: float = 10.0
    ) -> RecordMetadata:
        return self.publish(topic, key, message).get(timeout=timeout_s)

    def flush(self, timeout_s: float | None = None) -> None:
        self._producer.flush(timeout=timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        self._closed.set()
        self._producer.close(timeout=timeout_s)


class ReadIncomplete(RuntimeError):
    """Topics could not be read to their end in time."""


@dataclass(frozen=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: str | None
    # None for a tombstone or for a value that failed to decode (then decode_error says why).
    message: Message | None
    raw: bytes | None
    context: otel_context.Context
    timestamp_ms: int
    decode_error: str | None = None


class ProtoConsumer:
    """Polls protobuf records; either as a consumer group member or as a reader of whole partitions."""

    def __init__(
        self,
        settings: ServiceSettings,
        message_types: Mapping[str, type[Message]],
        *,
        client_id: str,
        group_id: str | None = None,
        subscribe: bool = True,
        **overrides: Any,
    ) -> None:
        self._message_types = dict(message_types)
        options: dict[str, Any] = {
            "bootstrap_servers": settings.kafka_bootstrap_servers,
            "client_id": client_id,
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "session_timeout_ms": settings.kafka_session_timeout_ms,
            "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
            "request_timeout_ms": max(settings.kafka_request_timeout_ms, settings.kafka_session_timeout_ms + 1000),
            "max_poll_records": 500,
            "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
            **kafka_client_options(settings),
        }
        options.update(overrides)
        self._consumer = KafkaConsumer(**options)
        self._joins_group = subscribe and group_id is not None
        # A join completes in about half a session timeout; shutdown should not wait much longer than that.
        self._join_timeout_s = settings.kafka_session_timeout_ms / 2000 + 1.0
        if subscribe:
            self._consumer.subscribe(list(self._message_types))

    @property
    def raw_consumer(self) -> KafkaConsumer:
        return self._consumer

    def assign_from_beginning(self) -> dict[TopicPartition, int]:
        """Read every partition of the topics from offset 0, without a group; returns the end offsets."""
        partitions = [
            TopicPartition(topic, partition)
            for topic in self._message_types
            for partition in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        self._consumer.seek_to_beginning(*partitions)
        return dict(self._consumer.end_offsets(partitions))

    def read_to_end(self, timeout_s: float) -> Iterator[ConsumedRecord]:
        """Every record from the beginning of each partition to the end it had when the read began, without a
        group; raises ReadIncomplete when that takes longer than `timeout_s` (a view of part would mislead)."""
        remaining = {partition: end for partition, end in self.assign_from_beginning().items() if end > 0}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                behind = sum(end - self.position(partition) for partition, end in remaining.items())
                topics = ", ".join(sorted(self._message_types))
                raise ReadIncomplete(f"{topics} not read to the end after {timeout_s:g}s ({behind} records left)")
            # Whole fetched batches are yielded, a few records past the end included: tansu reports end offsets
            # per batch, so a per-record cut-off would drop records that were there when the read began.
            yield from self.poll(timeout_ms=500)
            remaining = {partition: end for partition, end in remaining.items() if self.position(partition) < end}

    def assign_from_end(self) -> None:
        """Read every partition of the topics from now on, without a group: for watchers and tails."""
        self.assign_from_beginning()
        self._consumer.seek_to_end()

    def poll(self, timeout_ms: int = 500, max_records: int | None = None) -> list[ConsumedRecord]:
        """The next records; nothing while the broker is unreachable (the client reconnects by itself)."""
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except KafkaError as error:
            if not error.retriable:
                raise
            log.warning("kafka_poll_failed", error=type(error).__name__)
            time.sleep(timeout_ms / 1000)
            return []
        records: list[ConsumedRecord] = []
        for batch in batches.values():
            records.extend(self._decode(record) for record in batch)
        return records

    def settle_each(self, settle: Callable[[ConsumedRecord], bool], stop: threading.Event) -> None:
        """At-least-once processing until `stop`: a record's offset is committed only once `settle` returns True;
        False (stopping mid-retry, or a dependency refused) reads the same record again after a pause."""
        while not stop.is_set():
            for record in self.poll(timeout_ms=500):
                partition = TopicPartition(record.topic, record.partition)
                if not settle(record):
                    self._consumer.seek(partition, record.offset)
                    stop.wait(1.0)
                    break
                self.commit({partition: OffsetAndMetadata(record.offset + 1, "", -1)})

    def position(self, partition: TopicPartition) -> int:
        return int(self._consumer.position(partition))

    def lag(self) -> dict[TopicPartition, int]:
        """Records behind the end of each assigned partition, as of the last fetch: no broker round trip.

        Call it from the polling thread (the consumer is not thread-safe); partitions not fetched yet are left out.
        """
        lags: dict[TopicPartition, int] = {}
        for partition in self._consumer.assignment():
            highwater = self._consumer.highwater(partition)
            if highwater is not None:
                lags[partition] = max(0, int(highwater) - self.position(partition))
        return lags

    def commit(self, offsets: Mapping[TopicPartition, Any] | None = None) -> bool:
        """Commit, or return False while the broker is unreachable.

        Every consumer here commits after its work is durable and handles a record read twice, so a commit lost
        to an outage costs a re-read, never a record: it is no reason to stop.
        """
        try:
            if offsets is None:
                self._consumer.commit()
            else:
                self._consumer.commit(offsets=dict(offsets))
            return True
        except KafkaError as error:
            if not error.retriable:
                raise
            log.warning("kafka_commit_failed", error=type(error).__name__)
            return False

    def commit_async(
        self, offsets: Mapping[TopicPartition, Any], on_failed: Callable[[Exception], None] | None = None
    ) -> None:
        """Send a commit without waiting for the broker's answer; a failure reaches `on_failed` on a later poll.

        For consumers that commit after every batch: a lost commit costs a re-read, like `commit`'s, and the next
        commit covers the same offsets.
        """

        def done(_offsets: object, result: object) -> None:
            if isinstance(result, Exception) and on_failed is not None:
                on_failed(result)

        try:
            self._consumer.commit_async(offsets=dict(offsets), callback=done)
        except KafkaError as error:
            if not error.retriable:
                raise
            log.warning("kafka_commit_failed", error=type(error).__name__)

    def close(self) -> None:
        if self._joins_group:
            self._finish_group_join()
        self._consumer.close()

    def _finish_group_join(self) -> None:
        """Never leave a consumer group in the middle of joining it.

        A member that closes mid-join is never removed by tansu, and every later member of the group then waits
        for it forever. Records fetched here are not committed, so whoever gets the partitions reads them again.
        """
        deadline = time.monotonic() + self._join_timeout_s
        try:
            while not self._consumer.assignment() and time.monotonic() < deadline:
                self._consumer.poll(timeout_ms=200)
        except KafkaError as error:
            log.warning("kafka_group_join_unfinished", error=type(error).__name__)

    def _decode(self, record: Any) -> ConsumedRecord:
        message_type = self._message_types[record.topic]
        message: Message | None = None
        error: str | None = None
        if record.value is not None:
            try:
                message = message_type.FromString(record.value)
            except DecodeError as exc:
                error = f"cannot decode {message_type.DESCRIPTOR.full_name}: {exc}"
                log.warning("record_decode_failed", topic=record.topic, offset=record.offset, error=error)
        return ConsumedRecord(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key.decode() if record.key is not None else None,
            message=message,
            raw=record.value,
            context=context_from_kafka_headers(_headers(record)),
            timestamp_ms=record.timestamp,
            decode_error=error,
        )


def _headers(record: Any) -> Sequence[tuple[str, bytes | None]]:
    return list(record.headers or ())
