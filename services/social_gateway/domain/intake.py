"""From normalized webhook items to acknowledged ContactEvents: dedupe, one span per message, publish, confirm.

A message that answers the customer's open chat survey becomes a FeedbackEvent instead, never a contact.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from opentelemetry import trace

from contactrouting.v1 import contact_pb2, feedback_pb2
from services.social_gateway.domain.chat_surveys import ChatSurveys
from services.social_gateway.domain.contact_events import to_contact_event
from services.social_gateway.domain.messages import Normalized
from services.social_gateway.domain.queue_rules import QueueRules

tracer = trace.get_tracer(__name__)


class SinkUnavailable(RuntimeError):
    """Kafka did not acknowledge in time; the platform must retry the whole delivery."""


class PendingAck(Protocol):
    """A publish in flight; the sink resolves it."""


class ContactSink(Protocol):
    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck: ...

    def send_feedback(self, event: feedback_pb2.FeedbackEvent, on_acked: Callable[[], None]) -> PendingAck: ...

    def wait(self, pending: Sequence[PendingAck]) -> None:
        """Block until every publish is acknowledged; raise SinkUnavailable otherwise."""

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        """Publish and wait for the ack; raise SinkUnavailable otherwise."""


class SeenMessages(Protocol):
    def claim(self, keys: Sequence[str]) -> list[str]:
        """The keys neither published before nor in flight now, marked in flight; order kept, repeats dropped."""

    def confirm(self, key: str) -> None:
        """The message is acknowledged by Kafka: remember it for good."""

    def confirm_all(self, keys: Sequence[str]) -> None:
        """`confirm` for each key, in one round trip."""

    def release(self, keys: Sequence[str]) -> None:
        """Publishing failed: let a retry claim these keys again."""

    def confirmed(self, keys: Sequence[str]) -> set[str]:
        """The keys whose publish Kafka acknowledged; a key neither here nor claimable is in flight elsewhere."""


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    published: int
    duplicates: int
    skipped: int
    # Messages that answered an open chat survey: published as FeedbackEvents, not as contacts.
    survey_answers: int = 0
    # The skipped items (receipts, echoes, statuses) by platform and reason, for the operators' counters.
    skipped_by_reason: Mapping[tuple[str, str], int] = field(default_factory=dict)


class _Acks:
    """The keys of one delivery that Kafka acknowledged, confirmed together once the delivery is settled.

    Acks arrive on the sink's I/O thread; confirming each there would cost a store round trip per message. An ack
    that comes after the delivery was settled (the request gave up waiting) confirms its key by itself, so a late
    success still dedupes the platform's retry.
    """

    def __init__(self, seen: SeenMessages) -> None:
        self._seen = seen
        self._lock = threading.Lock()
        self._keys: list[str] = []
        self._settled = False

    def acked(self, key: str) -> None:
        with self._lock:
            if not self._settled:
                self._keys.append(key)
                return
        self._seen.confirm(key)

    def settle(self) -> list[str]:
        """The keys acknowledged so far; later acks confirm themselves."""
        with self._lock:
            self._settled = True
            return self._keys


def hashed(value: str) -> str:
    """A short, stable stand-in for ids in spans and logs."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class WebhookIntake:
    def __init__(
        self,
        sink: ContactSink,
        seen: SeenMessages,
        rules: QueueRules,
        clock_ns: Callable[[], int] = time.time_ns,
        surveys: ChatSurveys | None = None,
    ) -> None:
        self._sink = sink
        self._seen = seen
        self._rules = rules
        self._clock_ns = clock_ns
        self._surveys = surveys

    def accept(self, normalized: Normalized) -> IntakeOutcome:
        """Publish every new message of one delivery; returns only once Kafka acknowledged all of them."""
        received_at_ns = self._clock_ns()
        by_key = {message.dedupe_key: message for message in normalized.messages}
        claimed = self._seen.claim([message.dedupe_key for message in normalized.messages])
        self._refuse_while_in_flight([key for key in by_key if key not in claimed], claimed)
        pending: list[PendingAck] = []
        answers: list[feedback_pb2.FeedbackEvent] = []
        acks = _Acks(self._seen)
        try:
            for key in claimed:
                message = by_key[key]
                with tracer.start_as_current_span(f"{message.platform.value} message") as span:
                    span.set_attribute("messaging.message.id", hashed(key))
                    span.set_attribute("social.platform", message.platform.value)
                    answer = self._surveys.claim_answer(message, received_at_ns) if self._surveys else None
                    if answer is not None:
                        answers.append(answer)
                        span.set_attribute("survey.id", answer.survey_id)
                        span.set_attribute("contact.id", answer.contact_id)
                        pending.append(self._sink.send_feedback(answer, partial(self._answered, key, answer)))
                        continue
                    event = to_contact_event(message, received_at_ns, self._rules)
                    span.set_attribute("contact.id", event.contact_id)
                    span.set_attribute("contact.queue", event.queue)
                    span.set_attribute("contact.language", event.language)
                    pending.append(self._sink.send(event, partial(acks.acked, key)))
            self._sink.wait(pending)
            self._seen.confirm_all(acks.settle())
        except BaseException:
            # Acks that already arrived confirm their keys; only the rest go back for the platform's retry.
            acked = acks.settle()
            self._seen.confirm_all(acked)
            unacked = set(claimed).difference(acked)
            self._seen.release([key for key in claimed if key in unacked])
            if self._surveys is not None:
                for answer in answers:
                    self._surveys.release(answer)
            raise
        return IntakeOutcome(
            published=len(claimed) - len(answers),
            duplicates=len(normalized.messages) - len(claimed),
            skipped=len(normalized.skipped),
            survey_answers=len(answers),
            skipped_by_reason=Counter((item.platform.value, item.reason.value) for item in normalized.skipped),
        )

    def _answered(self, key: str, answer: feedback_pb2.FeedbackEvent) -> None:
        self._seen.confirm(key)
        if self._surveys is not None:
            self._surveys.confirm(answer)

    def _refuse_while_in_flight(self, unclaimed: list[str], claimed: list[str]) -> None:
        """A message another delivery is still publishing (a concurrent retry, or a gateway killed mid-publish
        whose claim has not lapsed) is no duplicate yet: answering 200 would lose it if that publish fails. The
        platform retries the whole delivery later instead."""
        if not unclaimed:
            return
        in_flight = set(unclaimed) - self._seen.confirmed(unclaimed)
        if in_flight:
            self._seen.release(claimed)
            raise SinkUnavailable(f"{len(in_flight)} message(s) of this delivery are being published elsewhere")

    def reject(self, source: str, reason: str, raw: bytes, details: dict[str, str]) -> None:
        """A signed but malformed body: keep it on the dead-letter topic, with the reason, for a human to look at."""
        letter = contact_pb2.DeadLetter(source=source, reason=reason, raw=raw, details=details)
        letter.received_at.FromNanoseconds(self._clock_ns())
        self._sink.dead_letter(letter)
