"""Replies out: consume `contacts.outbound` for the email channel and deliver each through the SMTP relay.

At least once: an offset is committed only after its mail was sent or its permanent failure was recorded as a
DELIVERY_FAILED routing event. A redelivered record gets the same Message-ID, so mail clients show it once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from kafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.exc import SQLAlchemyError

from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer, ProtoProducer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import contact_pb2, routing_pb2
from services.email_gateway.adapters.smtp_relay import DeliveryError, SmtpRelay
from services.email_gateway.adapters.thread_store import ThreadStore
from services.email_gateway.domain.addresses import mask_address
from services.email_gateway.domain.outbound_mail import Reply, compose, message_id_for
from services.email_gateway.domain.survey_mail import SurveyNotRenderable, render_survey
from services.email_gateway.domain.threads import Conversation

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)


class OutboundSender:
    def __init__(
        self,
        consumer: ProtoConsumer,
        producer: ProtoProducer,
        relay: SmtpRelay,
        threads: ThreadStore,
        default_mailbox: str,
        retry_delays_s: list[float],
        stop: threading.Event,
        clock: Callable[[], float],
        feedback_base_url: str = "",
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._relay = relay
        self._threads = threads
        self._default_mailbox = default_mailbox
        self._retry_delays_s = retry_delays_s
        self._stop = stop
        self._clock = clock
        self._feedback_base_url = feedback_base_url
        self._thread = threading.Thread(target=self._run, name="outbound-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            self._consumer.settle_each(self._settle, self._stop)
        finally:
            self._consumer.close()

    def _settle(self, record: ConsumedRecord) -> bool:
        try:
            return self._handle(record)
        except KafkaError as error:
            log.warning("outbound_settle_failed", error=type(error).__name__, offset=record.offset)
            return False
        except SQLAlchemyError as error:
            # The thread store did not answer: the record is read again after a pause (a reply that went out but
            # could not be recorded may then go out twice, as after a crash at that moment).
            log.warning("outbound_store_failed", error=type(error).__name__, offset=record.offset)
            return False

    def _handle(self, record: ConsumedRecord) -> bool:
        """True once the record is settled: sent, recorded as failed, or not ours."""
        outbound = record.message
        if not isinstance(outbound, contact_pb2.OutboundMessage) or outbound.channel != contact_pb2.CHANNEL_EMAIL:
            return True
        message_id = message_id_for(outbound.message_id, self._mailbox_of(outbound))
        if self._threads.contact_for(message_id) is not None:
            return True  # sent before a crash prevented the commit
        with tracer.start_as_current_span("email send", context=record.context, kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("contact.id", outbound.contact_id)
            span.set_attribute("conversation.id", outbound.conversation_id)
            return self._deliver(outbound, span)

    def _deliver(self, outbound: contact_pb2.OutboundMessage, span: trace.Span) -> bool:
        try:
            reply = self._reply(outbound)
        except SurveyNotRenderable as error:
            # A survey without rating links is useless to the customer: a visible failure, never a silent drop.
            log.error("survey_not_sendable", contact_id=outbound.contact_id, reason=str(error))
            span.set_status(Status(StatusCode.ERROR, str(error)))
            self._record_failure(outbound, str(error), attempt=0)
            return True
        mail = compose(reply)
        for attempt, delay_s in enumerate([*self._retry_delays_s, None], start=1):
            try:
                self._relay.send(mail, reply.envelope_from, reply.to_address)
            except DeliveryError as error:
                log.warning(
                    "email_send_failed",
                    attempt=attempt,
                    permanent=error.permanent,
                    reason=str(error),
                    to=mask_address(reply.to_address),
                    contact_id=outbound.contact_id,
                )
                if error.permanent or delay_s is None:
                    span.set_status(Status(StatusCode.ERROR, str(error)))
                    self._record_failure(outbound, str(error), attempt)
                    return True
                if self._stop.wait(delay_s):
                    return False
                continue
            conversation = Conversation(outbound.conversation_id, reply.reference_tag)
            self._threads.record(conversation, mail["Message-ID"], outbound.contact_id, direction="out")
            self._record_sent(outbound, attempt)
            log.info("email_sent", contact_id=outbound.contact_id, attempt=attempt, to=mask_address(reply.to_address))
            return True
        return True

    def _reply(self, outbound: contact_pb2.OutboundMessage) -> Reply:
        """The mail to send; raises SurveyNotRenderable for a survey whose rating links cannot be built."""
        known = self._threads.by_id(outbound.conversation_id)
        source = outbound.in_reply_to
        body, html_body, auto_submitted = outbound.body_text, "", ""
        if outbound.kind == contact_pb2.OUTBOUND_KIND_AUTO_ACKNOWLEDGEMENT:
            auto_submitted = "auto-replied"
        elif outbound.kind == contact_pb2.OUTBOUND_KIND_SURVEY:
            survey = render_survey(
                outbound.body_text, outbound.language, outbound.survey, self._feedback_base_url, outbound.subject
            )
            body, html_body, auto_submitted = survey.text, survey.html, "auto-generated"
        return Reply(
            outbound_id=outbound.message_id or str(uuid.uuid4()),
            from_mailbox=self._mailbox_of(outbound),
            to_address=outbound.customer.handle,
            to_name=outbound.customer.display_name,
            subject=outbound.subject,
            body=body,
            reference_tag=known.reference_tag if known else source.thread_id,
            in_reply_to=source.platform_message_id,
            references=list(source.references),
            auto_submitted=auto_submitted,
            html_body=html_body,
        )

    def _mailbox_of(self, outbound: contact_pb2.OutboundMessage) -> str:
        return outbound.in_reply_to.mailbox or self._default_mailbox

    def _record_sent(self, outbound: contact_pb2.OutboundMessage, attempt: int) -> None:
        if outbound.kind == contact_pb2.OUTBOUND_KIND_AGENT_REPLY:  # acknowledgements do not change the contact
            self._routing_event(outbound, routing_pb2.ROUTING_EVENT_TYPE_REPLY_SENT, "", attempt)

    def _record_failure(self, outbound: contact_pb2.OutboundMessage, reason: str, attempt: int) -> None:
        kind = contact_pb2.OutboundKind.Name(outbound.kind).removeprefix("OUTBOUND_KIND_").lower()
        self._routing_event(outbound, routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED, f"{kind}: {reason}", attempt)

    def _routing_event(
        self, outbound: contact_pb2.OutboundMessage, event_type: routing_pb2.RoutingEventType, reason: str, attempt: int
    ) -> None:
        occurred_at = Timestamp()
        occurred_at.FromNanoseconds(int(self._clock() * 1e9))
        event = routing_pb2.RoutingEvent(
            event_id=str(uuid.uuid4()),
            contact_id=outbound.contact_id,
            conversation_id=outbound.conversation_id,
            type=event_type,
            occurred_at=occurred_at,
            agent_id=outbound.agent_id,
            channel=contact_pb2.CHANNEL_EMAIL,
            language=outbound.language,
            reason=reason,
            attempt=attempt,
            customer_id=outbound.customer.customer_id,
        )
        # Waiting for the ack keeps the commit honest: the offset moves only once the event is stored.
        self._producer.publish_and_wait(ROUTING_EVENTS, outbound.contact_id, event)
