"""Publishing contacts and dead letters, waiting for the broker's ack so SMTP can answer truthfully."""

from __future__ import annotations

import structlog
from google.protobuf.message import Message
from kafka.errors import KafkaError

from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND, CONTACTS_OUTBOUND, ROUTING_EVENTS
from contactrouting.v1 import contact_pb2, routing_pb2

log = structlog.get_logger()


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

    def publish_routing_event(self, event: routing_pb2.RoutingEvent) -> None:
        self._publish(ROUTING_EVENTS, event.contact_id, event)

    def publish_outbound(self, message: contact_pb2.OutboundMessage) -> None:
        """Fire and forget: the contact is already safe, a lost acknowledgement is only logged."""
        future = self._producer.publish(CONTACTS_OUTBOUND, message.conversation_id, message)
        future.add_errback(lambda error: log.warning("outbound_publish_failed", error=type(error).__name__))

    def _publish(self, topic: str, key: str | None, message: Message) -> None:
        try:
            self._producer.publish_and_wait(topic, key, message, timeout_s=self._timeout_s)
        except KafkaError as error:
            raise PublishFailed(f"{topic}: {type(error).__name__}") from error
