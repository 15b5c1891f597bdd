"""routing.events and contacts.feedback read from the beginning of every partition to the end they had when the
read began, folded into one ServiceLedger; no consumer group, nothing committed."""

from __future__ import annotations

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import CONTACTS_FEEDBACK, ROUTING_EVENTS
from contactrouting.v1 import feedback_pb2, routing_pb2
from services.router.adapters.service_facts import absorb_feedback, absorb_routing_event
from services.router.domain.service_ledger import ServiceLedger


def read_ledger(settings: ServiceSettings, timeout_s: float) -> ServiceLedger:
    """Raises contactrouting.kafka_io.ReadIncomplete when the topics cannot be read to their end in time: figures
    from part of them would mislead."""
    ledger = ServiceLedger()  # a one-shot read: the whole retained history, no window
    consumer = ProtoConsumer(
        settings,
        {ROUTING_EVENTS: routing_pb2.RoutingEvent, CONTACTS_FEEDBACK: feedback_pb2.FeedbackEvent},
        client_id="report",
        subscribe=False,
    )
    try:
        for record in consumer.read_to_end(timeout_s):
            if isinstance(record.message, routing_pb2.RoutingEvent):
                absorb_routing_event(ledger, record.message)
            elif isinstance(record.message, feedback_pb2.FeedbackEvent):
                absorb_feedback(ledger, record.message)
    finally:
        consumer.close()
    return ledger
