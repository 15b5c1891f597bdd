"""contacts.inbound, consumed in group `router`: an offset is committed only after the QUEUED routing events of
every contact before it are acknowledged, so a crash can redeliver a contact but never lose one."""

from __future__ import annotations

import threading
import time

import structlog
from kafka import TopicPartition
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer
from contactrouting.metrics import CONSUMER_LAG, DEAD_LETTERS, ConsumerLagLabels
from contactrouting.topics import CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from services.router.adapters.contact_mapping import timestamp
from services.router.adapters.kafka_publisher import RouterPublisher
from services.router.adapters.switchboard import Switchboard

log = structlog.get_logger()

CONSUMER_GROUP = "router"


class ContactIntake:
    def __init__(
        self,
        settings: ServiceSettings,
        switchboard: Switchboard,
        publisher: RouterPublisher,
        ack_timeout_s: float = 30.0,
    ) -> None:
        self._consumer = ProtoConsumer(
            settings, {CONTACTS_INBOUND: contact_pb2.ContactEvent}, client_id="router-intake", group_id=CONSUMER_GROUP
        )
        self._switchboard = switchboard
        self._publisher = publisher
        self._ack_timeout_s = ack_timeout_s

    def run(self, halt: threading.Event) -> None:
        """Poll until `halt`; the consumer is closed on this thread because kafka-python's is not thread-safe."""
        assigned: set[TopicPartition] = set()
        try:
            while not halt.is_set():
                records = self._consumer.poll(timeout_ms=200)
                if records:
                    self._process(records)
                for partition, lag in self._consumer.lag().items():
                    labels: ConsumerLagLabels = {
                        "group": CONSUMER_GROUP,
                        "topic": partition.topic,
                        "partition": str(partition.partition),
                    }
                    CONSUMER_LAG.set(lag, labels)
                if (current := self._consumer.raw_consumer.assignment()) != assigned:
                    assigned = set(current)
                    log.info("inbound_partitions_assigned", partitions=sorted(tp.partition for tp in assigned))
        finally:
            self._consumer.close()
            log.info("inbound_consumer_closed")

    def _process(self, records: list[ConsumedRecord]) -> None:
        futures = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for record in records:
            message = record.message
            if isinstance(message, contact_pb2.ContactEvent) and message.contact_id:
                futures.extend(self._switchboard.enqueue(message, record.context))
            else:
                futures.append(self._publisher.dead_letter(_dead_letter(record)))
            offsets[TopicPartition(record.topic, record.partition)] = OffsetAndMetadata(record.offset + 1, "", -1)
        for future in futures:
            future.get(timeout=self._ack_timeout_s)
        try:
            self._consumer.commit(offsets)
        except CommitFailedError as error:
            # A rebalance took the partitions away; the next owner redelivers, and known contacts are skipped.
            log.warning("inbound_commit_failed", error=str(error))


def _dead_letter(record: ConsumedRecord) -> contact_pb2.DeadLetter:
    if record.decode_error:
        code, reason = "undecodable", record.decode_error
    elif record.raw is None:
        code, reason = "empty_record", "empty record"
    else:
        code, reason = "missing_contact_id", "contact event without contact_id"
    log.warning("inbound_dead_lettered", partition=record.partition, offset=record.offset, reason=code)
    DEAD_LETTERS.add(1, {"source": "router", "reason": code})
    return contact_pb2.DeadLetter(
        source="router.contacts_inbound",
        reason=reason,
        raw=record.raw or b"",
        received_at=timestamp(time.time()),
        details={"topic": record.topic, "partition": str(record.partition), "offset": str(record.offset)},
    )
