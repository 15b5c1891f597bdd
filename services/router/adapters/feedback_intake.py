"""contacts.feedback into the router's service history (and, through `on_answer`, into feedback-aware routing): read
from the beginning without a consumer group, because after a restart the rolling window needs every answer it covers
again, then followed live. The same loop refreshes the service gauges, so their figures also age when no answer
arrives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import CONTACTS_FEEDBACK
from contactrouting.v1 import feedback_pb2
from services.router.adapters.service_facts import Absorbed
from services.router.adapters.service_history import ServiceFigures, ServiceHistory

log = structlog.get_logger()
Clock = Callable[[], float]


class FeedbackIntake:
    def __init__(
        self,
        settings: ServiceSettings,
        history: ServiceHistory,
        publish: Callable[[ServiceFigures], None],
        refresh_s: float,
        clock: Clock = time.time,
        on_answer: Callable[[feedback_pb2.FeedbackEvent], None] | None = None,
    ) -> None:
        self._consumer = ProtoConsumer(
            settings, {CONTACTS_FEEDBACK: feedback_pb2.FeedbackEvent}, client_id="router-feedback", subscribe=False
        )
        self._history = history
        self._publish = publish
        self._refresh_s = refresh_s
        self._clock = clock
        self._on_answer = on_answer
        self.answers = 0

    def run(self, halt: threading.Event) -> None:
        assigned = warned = False
        next_refresh = 0.0
        try:
            while not halt.is_set():
                if assigned:
                    self._absorb()
                elif self._consumer.assign_from_beginning():
                    assigned = True
                else:
                    if not warned:
                        log.warning("waiting_for_topic", topic=CONTACTS_FEEDBACK)
                        warned = True
                    halt.wait(1.0)
                if time.monotonic() >= next_refresh:
                    self._history.refresh(self._clock(), self._publish)
                    next_refresh = time.monotonic() + self._refresh_s
        finally:
            self._consumer.close()

    def _absorb(self) -> None:
        for record in self._consumer.poll(timeout_ms=500):
            message = record.message
            if isinstance(message, feedback_pb2.FeedbackEvent):
                absorbed = self._history.record_feedback(message)
                if absorbed is Absorbed.REPEATED:
                    continue
                if absorbed is Absorbed.NEW:
                    self.answers += 1
                    if self._on_answer is not None:  # a repeated answer must not count twice for routing either
                        self._on_answer(message)
                    continue
            log.warning("feedback_skipped", partition=record.partition, offset=record.offset)
