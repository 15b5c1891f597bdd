"""Everything the router writes to Kafka: routing events, agent replies and dead letters."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from kafka.producer.future import FutureRecordMetadata

from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_OUTBOUND, ROUTING_EVENTS
from contactrouting.v1 import contact_pb2, routing_pb2

log = structlog.get_logger()


class RouterPublisher:
    """Routing events are the router's source of truth: one that cannot be written is fatal (`on_failure`),
    because the engine would then be ahead of the log it recovers from."""

    def __init__(self, producer: ProtoProducer, on_failure: Callable[[BaseException], None]) -> None:
        self._producer = producer
        self._on_failure = on_failure

    def routing_event(self, event: routing_pb2.RoutingEvent) -> FutureRecordMetadata:
        """Published in the span of the work that caused it (enqueue, offer, the agent's command, a survey), which
        its traceparent names: a PRODUCER span of its own per event cost about a fifth of the router's Python time."""
        future = self._producer.publish(ROUTING_EVENTS, event.contact_id, event, span=False)
        future.add_errback(self._routing_event_failed, event.event_id)
        return future

    def outbound(self, message: contact_pb2.OutboundMessage, *, span: bool = True) -> FutureRecordMetadata:
        """`span=False` when the current span already is the message's PRODUCER span (a survey's)."""
        return self._producer.publish(CONTACTS_OUTBOUND, message.conversation_id, message, span=span)

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> FutureRecordMetadata:
        return self._producer.publish(CONTACTS_DEADLETTER, None, letter)

    def flush(self, timeout_s: float | None = None) -> None:
        self._producer.flush(timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        self._producer.close(timeout_s)

    def _routing_event_failed(self, event_id: str, error: BaseException) -> None:
        log.error("routing_event_publish_failed", event_id=event_id, error=str(error))
        self._on_failure(error)
