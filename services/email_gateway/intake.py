"""Receiving one mail: parse, thread, describe and publish it, answering only once Kafka has it.

Shared by the SMTP server and the IMAP poller; each call runs in one worker thread and one receive span.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from contactrouting.language import detect_language
from contactrouting.metrics import CONTACTS_RECEIVED, DEAD_LETTERS
from contactrouting.v1 import contact_pb2, routing_pb2
from services.email_gateway.adapters.kafka_publisher import ContactPublisher, PublishFailed
from services.email_gateway.adapters.thread_store import ThreadReader, ThreadStore
from services.email_gateway.domain.acknowledgement import acknowledgement_text, is_automatic
from services.email_gateway.domain.addresses import customer_id_for
from services.email_gateway.domain.bounces import DeliveryFailure
from services.email_gateway.domain.mailboxes import Mailbox, MailboxDirectory
from services.email_gateway.domain.parsing import ParsedMail, UnparseableMail, parse_mail
from services.email_gateway.domain.replies import split_reply
from services.email_gateway.domain.threads import (
    Conversation,
    contact_id_for,
    dedupe_key,
    new_reference_tag,
    reference_tag_in,
    referenced_ids,
)

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)


class Outcome(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    # Dead-lettered: the sender gets a permanent error.
    REJECTED = "rejected"
    # Kafka did not ack: the sender must retry.
    DEFERRED = "deferred"


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    detail: str = ""
    contact_id: str = ""
    # A bounded token for metrics (e.g. "unparseable"); `detail` is free text for the sender.
    code: str = ""


class MailIntake:
    def __init__(
        self,
        directory: MailboxDirectory,
        publisher: ContactPublisher,
        threads: ThreadStore,
        source: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._directory = directory
        self._publisher = publisher
        self._threads = threads
        self._source = source
        self._clock = clock

    def receive(self, raw: bytes, recipients: Sequence[str], envelope_sender: str | None = None) -> IntakeResult:
        """`recipients` are the envelope (or To) addresses; the first configured one is the mailbox."""
        with tracer.start_as_current_span("email receive", kind=trace.SpanKind.SERVER) as span:
            span.set_attribute("messaging.system", "email")
            span.set_attribute("email.size_bytes", len(raw))
            mailbox = next((m for m in map(self._directory.get, recipients) if m is not None), None)
            if mailbox is None:
                return self._dead_letter(raw, "no_mailbox", "no configured mailbox among the recipients", "", span)
            span.set_attribute("email.mailbox", mailbox.address)
            try:
                mail = parse_mail(raw)
            except UnparseableMail as error:
                return self._dead_letter(raw, "unparseable", str(error), mailbox.address, span)
            except Exception as error:  # the service never crashes on input, whatever the parser meets
                log.exception("mail_parse_crashed", mailbox=mailbox.address)
                return self._dead_letter(
                    raw, "parser_crashed", f"cannot parse: {type(error).__name__}", mailbox.address, span
                )
            key = dedupe_key(mail)
            # One connection for every lookup of this mail; the bounce and conversation lookups only when needed.
            with self._threads.reading() as threads:
                earlier = threads.contact_for(key)
                failure = mail.delivery_failure
                sent = threads.sent(failure.original_message_id) if failure and earlier is None else None
                thread = self._conversation_for(mail, threads) if earlier is None and sent is None else None
            if earlier is not None:
                span.set_attribute("email.duplicate", True)
                log.info("mail_duplicate_ignored", mailbox=mailbox.address, contact_id=earlier)
                return IntakeResult(Outcome.DUPLICATE, contact_id=earlier)
            if failure is not None and sent is not None:
                return self._bounced(failure, key, *sent, span)
            assert thread is not None
            conversation, is_new = thread
            event = self._contact_event(mail, mailbox, conversation, key)
            span.set_attribute("contact.id", event.contact_id)
            span.set_attribute("conversation.id", event.conversation_id)
            span.set_attribute("contact.channel", "email")
            span.set_attribute("contact.language", event.language)
            span.set_attribute("contact.queue", event.queue)
            try:
                self._publisher.publish_contact(event)
            except PublishFailed as error:
                span.set_status(Status(StatusCode.ERROR, str(error)))
                log.warning("contact_publish_failed", mailbox=mailbox.address, error=str(error))
                return IntakeResult(Outcome.DEFERRED, str(error), code="publish_failed")
            self._threads.record(conversation, key, event.contact_id)
            CONTACTS_RECEIVED.add(1, {"channel": "email", "language": event.language or "und"})
            if is_new and mailbox.auto_acknowledge and not is_automatic(mail, envelope_sender, self._directory):
                self._publisher.publish_outbound(self._acknowledgement(event, mailbox, conversation))
            log.info(
                "contact_received",
                mailbox=mailbox.address,
                contact_id=event.contact_id,
                conversation_id=event.conversation_id,
                new_conversation=is_new,
                language=event.language,
                queue=event.queue,
                attachments=len(event.attachments),
            )
            return IntakeResult(Outcome.ACCEPTED, contact_id=event.contact_id)

    def _bounced(
        self, failure: DeliveryFailure, key: str, contact_id: str, conversation: Conversation, span: trace.Span
    ) -> IntakeResult:
        """A bounce of our own reply is not a customer contact: it records the reply's failure on routing.events."""
        event = routing_pb2.RoutingEvent(
            event_id=str(uuid.uuid4()),
            contact_id=contact_id,
            conversation_id=conversation.conversation_id,
            type=routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED,
            occurred_at=self._now(),
            channel=contact_pb2.CHANNEL_EMAIL,
            reason=f"bounce: {failure.status} {failure.diagnostic}".strip(),
        )
        span.set_attribute("contact.id", contact_id)
        try:
            self._publisher.publish_routing_event(event)
        except PublishFailed as error:
            return IntakeResult(Outcome.DEFERRED, str(error), code="publish_failed")
        self._threads.record(conversation, key, contact_id)
        log.warning("reply_bounced", contact_id=contact_id, status=failure.status)
        return IntakeResult(Outcome.ACCEPTED, contact_id=contact_id)

    @staticmethod
    def _conversation_for(mail: ParsedMail, threads: ThreadReader) -> tuple[Conversation, bool]:
        """(conversation, is_new): by References/In-Reply-To, then by the subject's reference tag."""
        known = threads.by_message_ids(referenced_ids(mail))
        if known is None and (tag := reference_tag_in(mail.subject)) is not None:
            known = threads.by_tag(tag)
        if known is not None:
            return known, False
        tag = new_reference_tag()
        while threads.tag_taken(tag):
            tag = new_reference_tag()
        return Conversation(str(uuid.uuid4()), tag), True

    def _contact_event(
        self, mail: ParsedMail, mailbox: Mailbox, conversation: Conversation, key: str
    ) -> contact_pb2.ContactEvent:
        reply = split_reply(mail.text)
        rule_text = f"{mail.subject}\n{reply.new_text}"
        language = detect_language(rule_text)
        hint = self._directory.hint_for(mailbox, rule_text)
        return contact_pb2.ContactEvent(
            event_id=str(uuid.uuid4()),
            contact_id=contact_id_for(key),
            conversation_id=conversation.conversation_id,
            channel=contact_pb2.CHANNEL_EMAIL,
            received_at=self._now(),
            customer=contact_pb2.Customer(
                customer_id=customer_id_for(mail.from_address),
                handle=mail.from_address,
                display_name=mail.from_name,
            ),
            subject=mail.subject,
            body_text=reply.new_text,
            quoted_text=reply.quoted_text,
            language=language.language,
            language_confidence=language.confidence,
            attachments=[
                contact_pb2.Attachment(
                    filename=a.filename, content_type=a.content_type, size_bytes=a.size_bytes, sha256=a.sha256
                )
                for a in mail.attachments
            ],
            queue=hint.queue,
            required_skills=[
                contact_pb2.SkillRequirement(skill=skill, min_proficiency=level)
                for skill, level in sorted(hint.required_skills.items())
            ],
            priority=hint.priority,
            source=contact_pb2.SourceRef(
                mailbox=mailbox.address,
                platform_message_id=mail.message_id,
                thread_id=conversation.reference_tag,
                references=[*mail.references, *(m for m in mail.in_reply_to if m not in mail.references)],
            ),
        )

    def _acknowledgement(
        self, event: contact_pb2.ContactEvent, mailbox: Mailbox, conversation: Conversation
    ) -> contact_pb2.OutboundMessage:
        promise = self._directory.response_time_for(mailbox, event.queue)
        text = acknowledgement_text(event.language, conversation.reference_tag, promise, event.subject)
        return contact_pb2.OutboundMessage(
            message_id=str(uuid.uuid4()),
            contact_id=event.contact_id,
            conversation_id=event.conversation_id,
            channel=contact_pb2.CHANNEL_EMAIL,
            customer=event.customer,
            subject=text.subject,
            body_text=text.body,
            language=event.language,
            in_reply_to=event.source,
            created_at=self._now(),
            kind=contact_pb2.OUTBOUND_KIND_AUTO_ACKNOWLEDGEMENT,
        )

    def _dead_letter(self, raw: bytes, code: str, reason: str, mailbox: str, span: trace.Span) -> IntakeResult:
        """`code` is the bounded reason for metrics; `reason` the readable one on the record and in the reply."""
        span.set_status(Status(StatusCode.ERROR, reason))
        letter = contact_pb2.DeadLetter(
            source=self._source,
            reason=reason,
            raw=raw,
            received_at=self._now(),
            details={"mailbox": mailbox, "code": code},
        )
        try:
            self._publisher.publish_dead_letter(letter)
        except PublishFailed as error:
            log.warning("dead_letter_publish_failed", mailbox=mailbox, error=str(error))
            return IntakeResult(Outcome.DEFERRED, str(error), code="publish_failed")
        DEAD_LETTERS.add(1, {"source": self._source, "reason": code})
        log.warning("mail_dead_lettered", mailbox=mailbox, reason=reason, code=code, size_bytes=len(raw))
        return IntakeResult(Outcome.REJECTED, reason, code=code)

    def _now(self) -> Timestamp:
        stamp = Timestamp()
        stamp.FromNanoseconds(int(self._clock() * 1e9))
        return stamp
