"""ContactEvents, survey answers and dead letters to Kafka, acknowledged by the broker before a request is answered."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from contactrouting.kafka_io import ProtoProducer
from contactrouting.metrics import CONTACTS_RECEIVED, FEEDBACK_RECORDED, ChannelLanguageLabels, FeedbackLabels
from contactrouting.survey_scales import SCALE_NAMES
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_FEEDBACK, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2, feedback_pb2
from services.social_gateway.domain.contact_events import CHANNELS
from services.social_gateway.domain.intake import PendingAck, SinkUnavailable

CHANNEL_NAMES = {channel: platform.value for platform, channel in CHANNELS.items()} | {
    contact_pb2.CHANNEL_EMAIL: "email"
}


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

    def send_feedback(self, event: feedback_pb2.FeedbackEvent, on_acked: Callable[[], None]) -> PendingAck:
        """A survey answer to `contacts.feedback`, keyed by contact id; `on_acked` runs once the broker has it."""
        pending = self._publish(CONTACTS_FEEDBACK, event.contact_id, event)
        labels: FeedbackLabels = {
            "channel": CHANNEL_NAMES.get(event.channel, "unknown"),
            "scale": SCALE_NAMES.get(event.scale, "unknown"),
        }

        def acked(_metadata: object) -> None:
            on_acked()
            FEEDBACK_RECORDED.add(1, labels)

        pending.add_callback(acked)
        return pending

    def publish_feedback(self, event: feedback_pb2.FeedbackEvent, on_acked: Callable[[], None]) -> None:
        """Publish one answer and wait for the broker's ack; raises SinkUnavailable without one."""
        self.wait([self.send_feedback(event, on_acked)])

    def wait(self, pending: Sequence[PendingAck]) -> None:
        deadline = time.monotonic() + self._timeout_s
        for item in pending:
            assert isinstance(item, FutureRecordMetadata)
            self._await(item, deadline)

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        self._await(self._publish(CONTACTS_DEADLETTER, None, letter), time.monotonic() + self._timeout_s)

    def _publish(
        self,
        topic: str,
        key: str | None,
        message: contact_pb2.ContactEvent | contact_pb2.DeadLetter | feedback_pb2.FeedbackEvent,
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
