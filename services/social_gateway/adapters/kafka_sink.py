"""ContactEvents and dead letters to Kafka, waiting for the broker's acknowledgement before a webhook is answered."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.intake import PendingAck, SinkUnavailable


class KafkaContactSink:
    def __init__(self, producer: ProtoProducer, timeout_s: float) -> None:
        self._producer = producer
        self._timeout_s = timeout_s

    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck:
        try:
            future = self._producer.publish(CONTACTS_INBOUND, event.conversation_id, event)
        except KafkaError as error:
            raise SinkUnavailable(f"publish refused: {type(error).__name__}") from error
        # Runs even when the ack comes after we gave up waiting, so a late success still dedupes the retry.
        future.add_callback(lambda _metadata: on_acked())
        return future

    def wait(self, pending: Sequence[PendingAck]) -> None:
        deadline = time.monotonic() + self._timeout_s
        for future in pending:
            _await(future, deadline)

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        try:
            future = self._producer.publish(CONTACTS_DEADLETTER, None, letter)
        except KafkaError as error:
            raise SinkUnavailable(f"publish refused: {type(error).__name__}") from error
        _await(future, time.monotonic() + self._timeout_s)


def _await(future: Any, deadline: float) -> None:
    assert isinstance(future, FutureRecordMetadata)
    try:
        future.get(timeout=max(deadline - time.monotonic(), 0.001))
    except KafkaError as error:
        raise SinkUnavailable(f"no ack: {type(error).__name__}") from error
