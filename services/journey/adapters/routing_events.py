"""`routing.events` read from the beginning of every partition to the end it had when the read began."""

from __future__ import annotations

import time
from collections.abc import Iterator

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import routing_pb2


class ReadIncomplete(RuntimeError):
    """The topic could not be read to its end in time: a timeline from part of it would mislead."""


def read_routing_events(settings: ServiceSettings, timeout_s: float) -> Iterator[routing_pb2.RoutingEvent]:
    """Every RoutingEvent up to the end offsets taken at the start; no consumer group, nothing committed."""
    consumer = ProtoConsumer(settings, {ROUTING_EVENTS: routing_pb2.RoutingEvent}, client_id="journey", subscribe=False)
    try:
        end_offsets = consumer.assign_from_beginning()
        remaining = {partition: end for partition, end in end_offsets.items() if end > 0}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                behind = sum(end - consumer.position(partition) for partition, end in remaining.items())
                raise ReadIncomplete(f"{ROUTING_EVENTS} not read to its end after {timeout_s:g}s ({behind} left)")
            for record in consumer.poll(timeout_ms=500):
                if isinstance(record.message, routing_pb2.RoutingEvent):
                    yield record.message
            remaining = {partition: end for partition, end in remaining.items() if consumer.position(partition) < end}
    finally:
        consumer.close()
