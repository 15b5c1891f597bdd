"""Start-up recovery: routing.events replayed from the beginning rebuilds which contacts wait and which are
assigned to whom, so a restart (even after kill -9) loses no contact and assigns none twice."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import structlog
from kafka import TopicPartition

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import routing_pb2
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.contact_mapping import contact_request, seconds
from services.router.adapters.switchboard import Switchboard

log = structlog.get_logger()
RET = routing_pb2.RoutingEventType
SURVEY_SENT = RET.ROUTING_EVENT_TYPE_SURVEY_SENT


@dataclass
class _Replayed:
    record: ContactRecord
    queued_at: float
    assigned_at: float = 0.0


@dataclass
class ReplayedLog:
    contacts: dict[str, _Replayed] = field(default_factory=dict)
    # Every SURVEY_SENT, also of contacts whose QUEUED has aged out: together they are the survey cap.
    surveys_sent: list[routing_pb2.RoutingEvent] = field(default_factory=list)


@dataclass(frozen=True)
class RecoverySummary:
    events: int
    waiting: int
    assigned: int
    closed: int
    surveys_due: int = 0


class RoutingEventsReader:
    """routing.events from the beginning: replayed once at start-up, then followed for the events other services
    write there (a gateway's REPLY_SENT or DELIVERY_FAILED), so ExplainContact tells a contact's whole story."""

    FOREIGN_TYPES = frozenset({RET.ROUTING_EVENT_TYPE_REPLY_SENT, RET.ROUTING_EVENT_TYPE_DELIVERY_FAILED})

    def __init__(self, settings: ServiceSettings) -> None:
        self._consumer = ProtoConsumer(
            settings, {ROUTING_EVENTS: routing_pb2.RoutingEvent}, client_id="router-routing-events", subscribe=False
        )

    def replay(self, halt: threading.Event, timeout_s: float) -> ReplayedLog:
        """Every contact of the topic with its history folded in, in log order; the reader stays at the end."""
        replayed = ReplayedLog()
        deadline = time.monotonic() + timeout_s
        end_offsets = self._consumer.assign_from_beginning()
        while not _caught_up(self._consumer, end_offsets):
            if halt.is_set() or time.monotonic() > deadline:
                raise TimeoutError(f"{ROUTING_EVENTS} not replayed within {timeout_s:.0f}s")
            for consumed in self._consumer.poll(timeout_ms=200):
                _fold(replayed, consumed)
        return replayed

    def follow(self, switchboard: Switchboard, halt: threading.Event) -> None:
        try:
            while not halt.is_set():
                for consumed in self._consumer.poll(timeout_ms=500):
                    event = consumed.message
                    if isinstance(event, routing_pb2.RoutingEvent) and event.type in self.FOREIGN_TYPES:
                        switchboard.record_external(event)
        finally:
            self._consumer.close()

    def close(self) -> None:
        self._consumer.close()


def restore(switchboard: Switchboard, replay: ReplayedLog) -> RecoverySummary:
    """Hand the replayed contacts to the engine; offers that were pending when the router stopped are gone.
    Completed contacts whose survey had not gone out yet are planned again."""
    engine, book, now = switchboard.engine, switchboard.book, time.time()
    waiting = assigned = closed = events = 0
    unsurveyed: list[ContactRecord] = []
    for replayed in replay.contacts.values():
        record = replayed.record
        events += len(record.history)
        switchboard.service.record_all(record.history)
        request = contact_request(record.event, replayed.queued_at)
        if record.state == "assigned" and record.agent_id:
            engine.restore_assigned(request, record.agent_id, replayed.assigned_at)
            book.add(record)
            assigned += 1
        elif record.state in ("waiting", "offered"):
            book.add(record)
            if record.state == "offered":
                switchboard.close_dangling_offer(record, now)
            engine.restore_waiting(request, replayed.queued_at)
            waiting += 1
        else:
            if record.agent_id:
                engine.remember_handled(
                    request.customer_id, request.conversation_id, record.agent_id, replayed.queued_at
                )
            book.archive(record)
            book.remember_in_conversation(record)  # a later contact of the conversation links to it
            closed += 1
            if record.state == "completed" and not any(e.type == SURVEY_SENT for e in record.history):
                unsurveyed.append(record)
    surveys_due = switchboard.surveys.restore(replay.surveys_sent, unsurveyed, now)
    summary = RecoverySummary(events, waiting, assigned, closed, surveys_due)
    log.info("routing_state_recovered", **summary.__dict__)
    return summary


def _caught_up(consumer: ProtoConsumer, end_offsets: dict[TopicPartition, int]) -> bool:
    return all(consumer.position(partition) >= end for partition, end in end_offsets.items())


def _fold(replay: ReplayedLog, consumed: ConsumedRecord) -> None:
    event = consumed.message
    if not isinstance(event, routing_pb2.RoutingEvent):
        return
    if event.type == SURVEY_SENT:
        replay.surveys_sent.append(event)
    contacts = replay.contacts
    replayed = contacts.get(event.contact_id)
    if event.type == RET.ROUTING_EVENT_TYPE_QUEUED and replayed is None:
        record = ContactRecord(event.contact, consumed.context, queue=event.queue, priority=event.priority)
        record.sla_deadline = seconds(event.sla_deadline)
        replayed = contacts[event.contact_id] = _Replayed(record, queued_at=seconds(event.occurred_at))
    if replayed is None:
        return  # its QUEUED event has aged out of the topic
    record = replayed.record
    record.record(event)
    # Gateways write REPLY_SENT / DELIVERY_FAILED here too; they carry no decision of the router's.
    if event.HasField("decision") and event.decision.ByteSize():
        record.decision.CopyFrom(event.decision)
    record.priority = event.priority or record.priority
    if event.type in (RET.ROUTING_EVENT_TYPE_ACCEPTED, RET.ROUTING_EVENT_TYPE_ASSIGNED):
        replayed.assigned_at = seconds(event.occurred_at)
