"""The intake's rules with in-memory ports: publish new messages once, give keys back when Kafka fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import pytest
import sqlalchemy as sa

from contactrouting.survey_tickets import issue_ticket
from contactrouting.v1 import contact_pb2, feedback_pb2
from services.social_gateway.adapters.survey_store import SqlSurveyLedger
from services.social_gateway.domain.chat_surveys import ChatSurveys
from services.social_gateway.domain.contact_events import customer_id
from services.social_gateway.domain.intake import IntakeOutcome, PendingAck, SinkUnavailable, WebhookIntake
from services.social_gateway.domain.messages import InboundMessage, Normalized, Platform, SkippedItem, SkipReason
from services.social_gateway.domain.queue_rules import QueueRules


class MemorySeen:
    def __init__(self) -> None:
        self.confirmed_keys: set[str] = set()
        self.in_flight: set[str] = set()

    def claim(self, keys: Sequence[str]) -> list[str]:
        claimed = [k for k in dict.fromkeys(keys) if k not in self.confirmed_keys and k not in self.in_flight]
        self.in_flight.update(claimed)
        return claimed

    def confirm(self, key: str) -> None:
        self.confirmed_keys.add(key)
        self.in_flight.discard(key)

    def confirm_all(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.confirm(key)

    def release(self, keys: Sequence[str]) -> None:
        self.in_flight.difference_update(keys)

    def confirmed(self, keys: Sequence[str]) -> set[str]:
        return {key for key in keys if key in self.confirmed_keys}


class MemorySink:
    """Acks the first `acks` sends, then behaves like a broker that went away."""

    def __init__(self, acks: int = 1000) -> None:
        self.acks = acks
        self.events: list[contact_pb2.ContactEvent] = []
        self.answers: list[feedback_pb2.FeedbackEvent] = []
        self.letters: list[contact_pb2.DeadLetter] = []

    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck:
        if len(self.events) + len(self.answers) >= self.acks:
            raise SinkUnavailable("down")
        self.events.append(event)
        on_acked()
        return object()

    def send_feedback(self, event: feedback_pb2.FeedbackEvent, on_acked: Callable[[], None]) -> PendingAck:
        if len(self.events) + len(self.answers) >= self.acks:
            raise SinkUnavailable("down")
        self.answers.append(event)
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
    read_receipt = {("telegram", "read"): 1}
    assert intake.accept(batch) == IntakeOutcome(published=2, duplicates=1, skipped=1, skipped_by_reason=read_receipt)
    assert intake.accept(batch) == IntakeOutcome(published=0, duplicates=3, skipped=1, skipped_by_reason=read_receipt)
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


class SlowAckSink(MemorySink):
    """Acks the first `in_time` sends at once and the rest only when told to, as a broker whose acks come after the
    request stopped waiting."""

    def __init__(self, in_time: int) -> None:
        super().__init__()
        self.in_time = in_time
        self.late: list[Callable[[], None]] = []

    def send(self, event: contact_pb2.ContactEvent, on_acked: Callable[[], None]) -> PendingAck:
        self.events.append(event)
        if len(self.events) <= self.in_time:
            on_acked()
        else:
            self.late.append(on_acked)
        return object()

    def wait(self, pending: Sequence[PendingAck]) -> None:
        if self.late:
            raise SinkUnavailable("no ack in time")


def test_an_ack_that_comes_after_the_request_gave_up_still_confirms_its_key() -> None:
    sink, seen = SlowAckSink(in_time=1), MemorySeen()
    intake = WebhookIntake(sink, seen, QueueRules("general"))
    first, second = message("1").dedupe_key, message("2").dedupe_key
    with pytest.raises(SinkUnavailable):
        intake.accept(Normalized((message("1"), message("2"))))
    # Acked in time: confirmed; not acked yet: released for the platform's retry.
    assert (seen.confirmed_keys, seen.in_flight) == ({first}, set())
    [late] = sink.late
    late()
    assert seen.confirmed_keys == {first, second}
    sink.late.clear()
    assert intake.accept(Normalized((message("1"), message("2")))) == IntakeOutcome(0, 2, 0), "never published twice"
    assert len(sink.events) == 2


def test_a_message_still_in_flight_elsewhere_is_retried_later_never_answered_as_a_duplicate() -> None:
    # E.g. a gateway killed mid-publish: its claim outlives it until the lease lapses, and its publish may be lost.
    sink, seen = MemorySink(), MemorySeen()
    seen.in_flight.add(message("1").dedupe_key)
    intake = WebhookIntake(sink, seen, QueueRules("general"))
    with pytest.raises(SinkUnavailable, match="elsewhere"):
        intake.accept(Normalized((message("1"), message("2"))))
    assert sink.events == [] and seen.in_flight == {message("1").dedupe_key}, "message 2 released for the retry"
    seen.release([message("1").dedupe_key])  # the claim lapsed (or its holder gave up)
    assert intake.accept(Normalized((message("1"), message("2")))) == IntakeOutcome(2, 0, 0)


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


SECRET = "intake-survey-secret-for-tests"


def surveyed(engine: sa.Engine) -> ChatSurveys:
    """Customer u1 on Telegram was just asked for a CSAT rating."""
    surveys = ChatSurveys(SqlSurveyLedger(engine, claim_lease_s=60), SECRET)
    ticket = feedback_pb2.SurveyTicket(
        survey_id="s-1",
        contact_id="contact-1",
        scales=[contact_pb2.SURVEY_SCALE_CSAT],
        channel=contact_pb2.CHANNEL_TELEGRAM,
    )
    ticket.expires_at.FromSeconds(int(time.time()) + 3600)
    survey = contact_pb2.Survey(
        survey_id="s-1", scales=ticket.scales, ticket=issue_ticket(ticket, SECRET), expires_at=ticket.expires_at
    )
    surveys.record_sent(
        contact_pb2.OutboundMessage(
            channel=contact_pb2.CHANNEL_TELEGRAM,
            customer=contact_pb2.Customer(customer_id=customer_id(Platform.TELEGRAM, "u1")),
            kind=contact_pb2.OUTBOUND_KIND_SURVEY,
            survey=survey,
        )
    )
    return surveys


def test_a_survey_answer_is_published_as_feedback_and_never_as_a_contact(store_engine: sa.Engine) -> None:
    sink, seen = MemorySink(), MemorySeen()
    intake = WebhookIntake(sink, seen, QueueRules("general"), surveys=surveyed(store_engine))
    outcome = intake.accept(Normalized((message("1", "4 fast and kind"), message("2", "5"), message("3", "Hi again"))))
    assert outcome == IntakeOutcome(published=2, duplicates=0, skipped=0, survey_answers=1)
    [answer] = sink.answers
    assert (answer.rating, answer.comment, answer.contact_id) == (4, "fast and kind", "contact-1")
    # The question is answered: a second number is an ordinary message.
    assert [event.body_text for event in sink.events] == ["5", "Hi again"]
    assert seen.confirmed_keys == {message(n).dedupe_key for n in "123"}


def test_an_unacknowledged_answer_can_be_given_again_by_the_platforms_retry(store_engine: sa.Engine) -> None:
    sink, seen = MemorySink(acks=0), MemorySeen()
    intake = WebhookIntake(sink, seen, QueueRules("general"), surveys=surveyed(store_engine))
    with pytest.raises(SinkUnavailable):
        intake.accept(Normalized((message("1", "4"),)))
    sink.acks = 1000
    assert intake.accept(Normalized((message("1", "4"),))) == IntakeOutcome(0, 0, 0, survey_answers=1)
    assert [answer.rating for answer in sink.answers] == [4] and sink.events == []
