"""ContactEvents and dead letters to Kafka, waiting for the broker's acknowledgement before a webhook is answered."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from contactrouting.kafka_io import ProtoProducer
from contactrouting.metrics import CONTACTS_RECEIVED, ChannelLanguageLabels
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.contact_events import CHANNELS
from services.social_gateway.domain.intake import PendingAck, SinkUnavailable

CHANNEL_NAMES = {channel: platform.value for platform, channel in CHANNELS.items()}


class KafkaContactSink:
    """Publishes through the shared producer, which replaces its client by itself after a lost delivery."""

    def __init__(self, producer: ProtoProducer, timeout_s: float) -> None:
        self._producer = producer
        self._timeout_s = timeout_s

    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck:
        pending = self._publish(CONTACTS_INBOUND, event.conversation_id, event)
        labels: ChannelLanguageLabels = {"channel": CHANNEL_NAMES[event.channel], "language": event.language or "und"}

        def acked(_metadata: object) -> None:
            # Runs even when the ack comes after we gave up waiting, so a late success still dedupes the retry.
            on_acked()
            CONTACTS_RECEIVED.add(1, labels)

        pending.add_callback(acked)
        return pending

    def wait(self, pending: Sequence[PendingAck]) -> None:
        deadline = time.monotonic() + self._timeout_s
        for item in pending:
            assert isinstance(item, FutureRecordMetadata)
            self._await(item, deadline)

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        self._await(self._publish(CONTACTS_DEADLETTER, None, letter), time.monotonic() + self._timeout_s)

    def _publish(
        self, topic: str, key: str | None, message: contact_pb2.ContactEvent | contact_pb2.DeadLetter
    ) -> FutureRecordMetadata:
        try:
            return self._producer.publish(topic, key, message)
        except KafkaError as error:
            raise SinkUnavailable(f"publish refused: {type(error).__name__}") from error

    def _await(self, pending: FutureRecordMetadata, deadline: float) -> None:
        try:
            pending.get(timeout=max(deadline - time.monotonic(), 0.001))
        except KafkaError as error:
            raise SinkUnavailable(f"no ack: {type(error).__name__}") from error
