"""contacts.inbound, consumed in group `router`: an offset is committed only after the QUEUED routing events of
every contact before it are acknowledged, so a crash can redeliver a contact but never lose one."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import structlog
from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaTimeoutError
from kafka.producer.future import FutureRecordMetadata
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
# Polled batches whose routing events may be in flight at once; more waits for the oldest to be acknowledged.
MAX_UNACKED_BATCHES = 8

Offsets = dict[TopicPartition, OffsetAndMetadata]


@dataclass
class _Batch:
    """The records of one poll, and the publishes their offsets wait for."""

    futures: list[FutureRecordMetadata]
    offsets: Offsets
    polled_at: float = field(default_factory=time.monotonic)

    def acked(self) -> bool:
        """True once every publish succeeded; raises the error of one that failed."""
        for future in self.futures:
            if not future.is_done:
                return False
            if future.failed():
                raise future.exception
        return True


class ContactIntake:
    """Polls the next batch while the last one's routing events are still on their way to the broker, and commits
    (asynchronously) every batch whose events are acknowledged, in order: the ack round trip and the commit are
    off the path from one poll to the next."""

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
        self._unacked: deque[_Batch] = deque()

    def run(self, halt: threading.Event) -> None:
        """Poll until `halt`; the consumer is closed on this thread because kafka-python's is not thread-safe."""
        assigned: set[TopicPartition] = set()
        try:
            while not halt.is_set():
                records = self._consumer.poll(timeout_ms=200)
                if records:
                    self._unacked.append(self._process(records))
                self._commit_acked(wait=len(self._unacked) > MAX_UNACKED_BATCHES)
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
            self._finish()
        finally:
            self._consumer.close()
            log.info("inbound_consumer_closed")

    def _process(self, records: list[ConsumedRecord]) -> _Batch:
        futures: list[FutureRecordMetadata] = []
        offsets: Offsets = {}
        for record in records:
            message = record.message
            if isinstance(message, contact_pb2.ContactEvent) and message.contact_id:
                futures.extend(self._switchboard.enqueue(message, record.context))
            else:
                futures.append(self._publisher.dead_letter(_dead_letter(record)))
            offsets[TopicPartition(record.topic, record.partition)] = OffsetAndMetadata(record.offset + 1, "", -1)
        return _Batch(futures, offsets)

    def _commit_acked(self, wait: bool) -> None:
        """Commit the offsets of the oldest batches whose events are all acknowledged; with `wait`, first wait for
        the oldest. A publish that failed or is overdue raises: the router then stops and recovers on restart."""
        if wait:
            self._wait_for(self._unacked[0])
        offsets: Offsets = {}
        while self._unacked and self._unacked[0].acked():
            offsets.update(self._unacked.popleft().offsets)
        if self._unacked and time.monotonic() - self._unacked[0].polled_at > self._ack_timeout_s:
            raise KafkaTimeoutError(f"routing events not acknowledged within {self._ack_timeout_s:g}s")
        if offsets:
            self._consumer.commit_async(offsets, on_failed=_commit_failed)

    def _wait_for(self, batch: _Batch) -> None:
        left = self._ack_timeout_s - (time.monotonic() - batch.polled_at)
        for future in batch.futures:
            future.get(timeout=max(left, 0.001))

    def _finish(self) -> None:
        """Stopping: wait for the events still in flight and commit what they cover, synchronously."""
        offsets: Offsets = {}
        while self._unacked:
            self._wait_for(self._unacked[0])
            offsets.update(self._unacked.popleft().offsets)
        if offsets:
            try:
                self._consumer.commit(offsets)
            except CommitFailedError as error:
                _commit_failed(error)


def _commit_failed(error: Exception) -> None:
    # A rebalance took the partitions away, or the broker is away: the contacts are redelivered later, and known
    # ones are skipped; the next commit covers these offsets too.
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
