"""`routing.events` read from the beginning of every partition to the end it had when the read began."""

from __future__ import annotations

from collections.abc import Iterator

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import routing_pb2


def read_routing_events(settings: ServiceSettings, timeout_s: float) -> Iterator[routing_pb2.RoutingEvent]:
    """Every RoutingEvent up to the end offsets taken at the start; no consumer group, nothing committed.
    Raises contactrouting.kafka_io.ReadIncomplete when the topic cannot be read to its end in time."""
    consumer = ProtoConsumer(settings, {ROUTING_EVENTS: routing_pb2.RoutingEvent}, client_id="journey", subscribe=False)
    try:
        for record in consumer.read_to_end(timeout_s):
            if isinstance(record.message, routing_pb2.RoutingEvent):
                yield record.message
    finally:
        consumer.close()
