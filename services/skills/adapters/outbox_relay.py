"""Publishes outbox records to `agents.profiles` in id order and marks them sent only after the broker's ack.

Ordering per agent: records are read in outbox-id order and published by one idempotent producer, so the broker
keeps each partition (and hence each agent key) in send order. After a batch is handed to the producer, the relay
waits until every record has an outcome (the producer retries on its own until its delivery timeout) and marks
the acknowledged prefix sent. If anything failed, the producer, by then holding nothing, is replaced and the next
round starts again from the first unmarked record: an outage or a crash can repeat records, never lose or reorder
them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.producer.future import FutureRecordMetadata
from opentelemetry import context as otel_context

from contactrouting.kafka_io import ProtoProducer
from contactrouting.metrics import OUTBOX_PUBLISHED
from contactrouting.topics import AGENTS_PROFILES
from contactrouting.tracing import context_from_traceparent
from contactrouting.v1 import agent_pb2
from services.skills.adapters import schema
from services.skills.adapters.relay_lease import RelayLease

log = structlog.get_logger()

AWAIT_SLICE_S = 0.25


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    agent_id: str
    payload: bytes | None
    traceparent: str


@dataclass(frozen=True)
class RelayTuning:
    batch_size: int = 500
    poll_interval_s: float = 0.5
    publish_timeout_s: float = 10.0
    retry_backoff_s: float = 1.0
    # Sent records are kept this long for inspection, then pruned.
    retention: timedelta = timedelta(hours=24)


class OutboxStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def unsent(self, limit: int) -> list[OutboxRecord]:
        outbox = schema.outbox
        query = sa.select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(limit)
        with self._engine.connect() as connection:
            return [OutboxRecord(r.id, r.agent_id, r.payload, r.traceparent) for r in connection.execute(query)]

    def mark_sent(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._engine.begin() as connection:
            connection.execute(
                schema.outbox.update().where(schema.outbox.c.id.in_(ids)).values(sent_at=datetime.now(UTC))
            )

    def pending(self) -> int:
        with self._engine.connect() as connection:
            query = sa.select(sa.func.count()).where(schema.outbox.c.sent_at.is_(None))
            return int(connection.scalar(query) or 0)

    def prune_sent_before(self, cutoff: datetime) -> int:
        with self._engine.begin() as connection:
            result = connection.execute(schema.outbox.delete().where(schema.outbox.c.sent_at < cutoff))
            return int(result.rowcount)


class PublishFailed(Exception):
    pass


class OutboxRelay:
    """A background thread draining the outbox; `wake()` after a commit publishes without waiting for the poll."""

    def __init__(
        self,
        store: OutboxStore,
        producer_factory: Callable[[], ProtoProducer],
        tuning: RelayTuning = RelayTuning(),
        lease: RelayLease | None = None,
    ) -> None:
        self._lease = lease
        self._store = store
        self._producer_factory = producer_factory
        self._tuning = tuning
        self._producer: ProtoProducer | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._last_prune = datetime.min.replace(tzinfo=UTC)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Publish what is pending (bounded by the timeout), then close the producer."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self._discard_producer(timeout_s=2.0)
        if self._lease is not None:
            self._lease.release()

    def relay_once(self) -> int:
        """Publish one batch; returns how many records were acknowledged and marked sent."""
        records = self._store.unsent(self._tuning.batch_size)
        if not records:
            return 0
        producer = self._current_producer()
        futures: list[FutureRecordMetadata] = []
        try:
            for record in records:
                message = agent_pb2.AgentProfile.FromString(record.payload) if record.payload is not None else None
                token = otel_context.attach(context_from_traceparent(record.traceparent))
                try:
                    futures.append(producer.publish(AGENTS_PROFILES, record.agent_id, message))
                finally:
                    otel_context.detach(token)
        except KafkaError as error:
            # send() itself failed (e.g. no metadata within max_block_ms); what it accepted still gets an outcome.
            log.warning("outbox_send_failed", error=repr(error))
        self._await_outcomes(producer, futures)
        acked: list[int] = []
        for record, future in zip(records, futures, strict=False):
            if not future.succeeded():
                break
            acked.append(record.id)
        # The acknowledged prefix is durable on the broker: record that even when a later publish failed.
        self._store.mark_sent(acked)
        if acked:
            OUTBOX_PUBLISHED.add(len(acked), {"topic": AGENTS_PROFILES})
        if len(acked) < len(records):
            failed = next((f for f in futures if f.is_done and f.failed()), None)
            cause = repr(failed.exception) if failed is not None else "not all records were handed to the producer"
            self._discard_producer()
            raise PublishFailed(f"published {len(acked)} of {len(records)}: {cause}")
        return len(acked)

    def _await_outcomes(self, producer: ProtoProducer, futures: Sequence[FutureRecordMetadata]) -> None:
        """Block until every future is done; the producer fails them itself once its delivery timeout passes."""
        waited_s = 0.0
        while not all(future.is_done for future in futures):
            try:
                # Short slices, so a stop request is noticed quickly even while the broker is away.
                producer.flush(timeout_s=AWAIT_SLICE_S)
            except KafkaTimeoutError:
                waited_s += AWAIT_SLICE_S
                if self._stop.is_set():
                    # Shutting down: leave them unmarked; the next start publishes them again.
                    return
                if waited_s >= self._tuning.publish_timeout_s:
                    log.warning("outbox_publish_waiting", records=sum(not f.is_done for f in futures))
                    waited_s = 0.0

    def _run(self) -> None:
        while True:
            try:
                if self._lease is not None and not self._lease.held():
                    # Another instance publishes; stand by and try again later.
                    if self._stop.wait(self._tuning.poll_interval_s * 4):
                        return
                    continue
                # Cleared before reading, so a commit that lands while we publish still wakes the next round.
                self._wake.clear()
                published = self.relay_once()
                if published:
                    log.info("outbox_published", records=published)
                self._prune_now_and_then()
            except PublishFailed as error:
                log.warning("outbox_publish_failed", error=str(error))
            except Exception:
                log.exception("outbox_relay_error")
            else:
                if self._stop.is_set() and published == 0:
                    return
                if published < self._tuning.batch_size:
                    self._wake.wait(self._tuning.poll_interval_s)
                continue
            if self._stop.wait(self._tuning.retry_backoff_s):
                return

    def _current_producer(self) -> ProtoProducer:
        if self._producer is None:
            try:
                self._producer = self._producer_factory()
            except KafkaError as error:
                raise PublishFailed(f"cannot connect to the broker: {error!r}") from error
        return self._producer

    def _discard_producer(self, timeout_s: float = 1.0) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout_s=timeout_s)
            except KafkaError as error:
                log.warning("outbox_producer_close_failed", error=repr(error))
            self._producer = None

    def _prune_now_and_then(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_prune < timedelta(minutes=10):
            return
        self._last_prune = now
        pruned = self._store.prune_sent_before(now - self._tuning.retention)
        if pruned:
            log.info("outbox_pruned", records=pruned)
