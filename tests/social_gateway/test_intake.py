"""The intake's rules with in-memory ports: publish new messages once, give keys back when Kafka fails."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.intake import IntakeOutcome, PendingAck, SinkUnavailable, WebhookIntake
from services.social_gateway.domain.messages import InboundMessage, Normalized, Platform, SkippedItem, SkipReason
from services.social_gateway.domain.queue_rules import QueueRules


class MemorySeen:
    def __init__(self) -> None:
        self.confirmed: set[str] = set()
        self.in_flight: set[str] = set()

    def claim(self, keys: Sequence[str]) -> list[str]:
        claimed = [k for k in dict.fromkeys(keys) if k not in self.confirmed and k not in self.in_flight]
        self.in_flight.update(claimed)
        return claimed

    def confirm(self, key: str) -> None:
        self.confirmed.add(key)
        self.in_flight.discard(key)

    def release(self, keys: Sequence[str]) -> None:
        self.in_flight.difference_update(keys)


class MemorySink:
    """Acks the first `acks` sends, then behaves like a broker that went away."""

    def __init__(self, acks: int = 1000) -> None:
        self.acks = acks
        self.events: list[contact_pb2.ContactEvent] = []
        self.letters: list[contact_pb2.DeadLetter] = []

    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck:
        if len(self.events) >= self.acks:
            raise SinkUnavailable("down")
        self.events.append(event)
        on_acked()
        return object()

    def wait(self, pending: Sequence[PendingAck]) -> None:
        return None

    def dead_letter(self, letter: contact_pb2.DeadLetter) -> None:
        self.letters.append(letter)


def message(message_id: str, text: str = "Hello, I need help with my order please.") -> InboundMessage:
    return InboundMessage(Platform.TELEGRAM, "bot", "u1", "Ana", "c1", message_id, 0.0, text)


def test_publishes_new_messages_once_and_counts_the_rest() -> None:
    sink, seen = MemorySink(), MemorySeen()
    intake = WebhookIntake(sink, seen, QueueRules("general"), clock_ns=lambda: 1700000000_250000000)
    batch = Normalized((message("1"), message("2"), message("1")), (SkippedItem(Platform.TELEGRAM, SkipReason.READ),))
    assert intake.accept(batch) == IntakeOutcome(published=2, duplicates=1, skipped=1)
    assert intake.accept(batch) == IntakeOutcome(published=0, duplicates=3, skipped=1)
    assert [event.source.platform_message_id for event in sink.events] == ["1", "2"]
    assert sink.events[0].received_at.ToNanoseconds() == 1700000000_250000000


def test_a_failed_publish_releases_unacknowledged_keys_for_the_retry() -> None:
    sink, seen = MemorySink(acks=1), MemorySeen()
    intake = WebhookIntake(sink, seen, QueueRules("general"))
    with pytest.raises(SinkUnavailable):
        intake.accept(Normalized((message("1"), message("2"))))
    assert seen.in_flight == set()
    sink.acks = 1000
    assert intake.accept(Normalized((message("1"), message("2")))) == IntakeOutcome(1, 1, 0)
    assert [event.source.platform_message_id for event in sink.events] == ["1", "2"]


def test_rejections_become_dead_letters_with_reason_and_raw_bytes() -> None:
    sink = MemorySink()
    WebhookIntake(sink, MemorySeen(), QueueRules("general"), clock_ns=lambda: 5_000_000_000).reject(
        "social_gateway.x", "json_invalid", b"{", {"route": "/webhooks/x"}
    )
    (letter,) = sink.letters
    assert (letter.source, letter.reason, letter.raw, dict(letter.details)) == (
        "social_gateway.x",
        "json_invalid",
        b"{",
        {"route": "/webhooks/x"},
    )
    assert letter.received_at.seconds == 5
