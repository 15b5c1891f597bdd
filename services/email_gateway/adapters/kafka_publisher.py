"""Publishing contacts and dead letters, waiting for the broker's ack so SMTP can answer truthfully."""

from __future__ import annotations

from kafka.errors import KafkaError

from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2


class PublishFailed(RuntimeError):
    """Kafka did not acknowledge in time: the sender must retry later (SMTP 451)."""


class ContactPublisher:
    def __init__(self, producer: ProtoProducer, timeout_s: float) -> None:
        self._producer = producer
        self._timeout_s = timeout_s

    def publish_contact(self, event: contact_pb2.ContactEvent) -> None:
        self._publish(CONTACTS_INBOUND, event.conversation_id, event)

    def publish_dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        self._publish(CONTACTS_DEADLETTER, None, letter)

    def _publish(self, topic: str, key: str | None, message: contact_pb2.ContactEvent | contact_pb2.DeadLetter) -> None:
        try:
            self._producer.publish_and_wait(topic, key, message, timeout_s=self._timeout_s)
        except KafkaError as error:
            raise PublishFailed(f"{topic}: {type(error).__name__}") from error
