"""routing.events and contacts.feedback read from the beginning of every partition to the end they had when the
read began, folded into one ServiceLedger; no consumer group, nothing committed."""

from __future__ import annotations

import time

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import CONTACTS_FEEDBACK, ROUTING_EVENTS
from contactrouting.v1 import feedback_pb2, routing_pb2
from services.router.adapters.service_facts import absorb_feedback, absorb_routing_event
from services.router.domain.service_ledger import ServiceLedger


class ReadIncomplete(RuntimeError):
    """The topics could not be read to their end in time: figures from part of them would mislead."""


def read_ledger(settings: ServiceSettings, timeout_s: float) -> ServiceLedger:
    ledger = ServiceLedger()  # a one-shot read: the whole retained history, no window
    consumer = ProtoConsumer(
        settings,
        {ROUTING_EVENTS: routing_pb2.RoutingEvent, CONTACTS_FEEDBACK: feedback_pb2.FeedbackEvent},
        client_id="report",
        subscribe=False,
    )
    try:
        end_offsets = consumer.assign_from_beginning()
        remaining = {partition: end for partition, end in end_offsets.items() if end > 0}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                behind = sum(end - consumer.position(partition) for partition, end in remaining.items())
                raise ReadIncomplete(f"topics not read to their end after {timeout_s:g}s ({behind} records left)")
            for record in consumer.poll(timeout_ms=500):
                if isinstance(record.message, routing_pb2.RoutingEvent):
                    absorb_routing_event(ledger, record.message)
                elif isinstance(record.message, feedback_pb2.FeedbackEvent):
                    absorb_feedback(ledger, record.message)
            remaining = {partition: end for partition, end in remaining.items() if consumer.position(partition) < end}
    finally:
        consumer.close()
    return ledger
