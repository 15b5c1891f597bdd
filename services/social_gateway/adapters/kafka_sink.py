"""ContactEvents and dead letters to Kafka, waiting for the broker's acknowledgement before a webhook is answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.producer.future import FutureRecordMetadata

from contactrouting.kafka_io import ProtoProducer
from contactrouting.metrics import CONTACTS_RECEIVED, ChannelLanguageLabels
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.contact_events import CHANNELS
from services.social_gateway.domain.intake import PendingAck, SinkUnavailable

log = structlog.get_logger()

CHANNEL_NAMES = {channel: platform.value for platform, channel in CHANNELS.items()}


class RenewableProducer:
    """The shared producer, replaced when it reports an error it will not recover from on its own.

    An idempotent producer whose broker lost its producer state (a restart without persistence, a failover)
    gets UnknownProducerId and may end in a fatal state; a fresh producer is the documented way out.
    Timeouts are not such errors: the producer reconnects by itself once the broker is back.
    """

    def __init__(self, connect: Callable[[], ProtoProducer]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._producer = connect()

    @property
    def current(self) -> ProtoProducer:
        return self._producer

    def renew(self, failed: ProtoProducer, error: KafkaError) -> None:
        with self._lock:
            if self._producer is not failed:
                return  # another request renewed it already
            try:
                self._producer = self._connect()
            except KafkaError as connect_error:
                log.warning("kafka_producer_renew_failed", error=type(connect_error).__name__)
                return
        log.warning("kafka_producer_renewed", after=type(error).__name__)
        threading.Thread(target=failed.close, args=(1.0,), name="producer-close", daemon=True).start()

    def flush(self, timeout_s: float) -> None:
        self._producer.flush(timeout_s)

    def close(self) -> None:
        self._producer.close()


@dataclass(frozen=True, slots=True)
class _Pending:
    producer: ProtoProducer
    future: FutureRecordMetadata


class KafkaContactSink:
    def __init__(self, producers: RenewableProducer, timeout_s: float) -> None:
        self._producers = producers
        self._timeout_s = timeout_s

    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck:
        pending = self._publish(CONTACTS_INBOUND, event.conversation_id, event)
        labels: ChannelLanguageLabels = {"channel": CHANNEL_NAMES[event.channel], "language": event.language}

        def acked(_metadata: object) -> None:
            # Runs even when the ack comes after we gave up waiting, so a late success still dedupes the retry.
            on_acked()
            CONTACTS_RECEIVED.add(1, labels)

        pending.future.add_callback(acked)
        return pending

    def wait(self, pending: Sequence[PendingAck]) -> None:
        deadline = time.monotonic() + self._timeout_s
        for item in pending:
            assert isinstance(item, _Pending)
            self._await(item, deadline)

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        self._await(self._publish(CONTACTS_DEADLETTER, None, letter), time.monotonic() + self._timeout_s)

    def _publish(
        self, topic: str, key: str | None, message: contact_pb2.ContactEvent | contact_pb2.DeadLetter
    ) -> _Pending:
        producer = self._producers.current
        try:
            return _Pending(producer, producer.publish(topic, key, message))
        except KafkaError as error:
            self._on_error(producer, error)
            raise SinkUnavailable(f"publish refused: {type(error).__name__}") from error

    def _await(self, pending: _Pending, deadline: float) -> None:
        try:
            pending.future.get(timeout=max(deadline - time.monotonic(), 0.001))
        except KafkaError as error:
            self._on_error(pending.producer, error)
            raise SinkUnavailable(f"no ack: {type(error).__name__}") from error

    def _on_error(self, producer: ProtoProducer, error: KafkaError) -> None:
        if not isinstance(error, KafkaTimeoutError):
            self._producers.renew(producer, error)
