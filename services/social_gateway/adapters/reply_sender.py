"""Replies out: consume `contacts.outbound` for social channels and call each platform's send API.

At least once: an offset is committed only after the reply was sent, or its permanent failure was recorded as a
DELIVERY_FAILED routing event. Sent message ids are remembered, so a record read again after a crash is not re-sent.
"""

from __future__ import annotations

import threading
import time
import uuid

import structlog
from kafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.exc import SQLAlchemyError

from contactrouting.kafka_io import ConsumedRecord, ProtoConsumer, ProtoProducer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import contact_pb2, routing_pb2
from services.social_gateway.adapters.platform_client import PlatformClient
from services.social_gateway.domain.chat_surveys import ChatSurveys
from services.social_gateway.domain.delivery_policy import RetryPolicy, Verdict
from services.social_gateway.domain.intake import SeenMessages
from services.social_gateway.domain.replies import NotDeliverable, ReplyEndpoints, is_social, reply_request

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)

OUTBOUND_GROUP = "social-gateway-outbound"


class ReplySender:
    def __init__(
        self,
        consumer: ProtoConsumer,
        producer: ProtoProducer,
        client: PlatformClient,
        endpoints: ReplyEndpoints,
        sent: SeenMessages,
        policy: RetryPolicy,
        stop: threading.Event,
        surveys: ChatSurveys | None = None,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._client = client
        self._endpoints = endpoints
        self._sent = sent
        self._policy = policy
        self._stop = stop
        self._surveys = surveys
        self._thread = threading.Thread(target=self._run, name="reply-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            self._consumer.settle_each(self._settle, self._stop)
        except Exception:
            log.exception("reply_sender_crashed")
            raise
        finally:
            self._consumer.close()
            self._client.close()

    def _settle(self, record: ConsumedRecord) -> bool:
        try:
            return self._handle(record)
        except KafkaError as error:
            log.warning("reply_settle_failed", error=type(error).__name__, offset=record.offset)
            return False
        except SQLAlchemyError as error:
            # The store of sent ids did not answer: the record is read again after a pause; nothing is sent unclaimed.
            log.warning("reply_store_failed", error=type(error).__name__, offset=record.offset)
            return False

    def _handle(self, record: ConsumedRecord) -> bool:
        """True once the record is settled: sent, recorded as failed, or not ours."""
        outbound = record.message
        if not isinstance(outbound, contact_pb2.OutboundMessage) or not is_social(outbound.channel):
            return True
        sent_key = f"outbound:{outbound.message_id or f'{record.partition}-{record.offset}'}"
        if not self._sent.claim([sent_key]):
            if not self._sent.confirmed([sent_key]):
                # Another sender holds it (or one killed mid-send whose claim has not lapsed): read it again later.
                return False
            # Sent before a crash or a Kafka error kept the offset from moving; the REPLY_SENT event may be missing,
            # so it is recorded again under the same event id. The customer is never messaged twice.
            self._remember_survey(outbound)
            self._record_sent(outbound, attempt=0)
            return True
        with tracer.start_as_current_span("social send", context=record.context, kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("contact.id", outbound.contact_id)
            span.set_attribute("conversation.id", outbound.conversation_id)
            try:
                return self._deliver(outbound, span, sent_key)
            finally:
                self._sent.release([sent_key])  # a confirmed key stays confirmed; only the in-flight mark goes

    def _deliver(self, outbound: contact_pb2.OutboundMessage, span: trace.Span, sent_key: str) -> bool:
        try:
            request = reply_request(outbound, self._endpoints)
        except NotDeliverable as error:
            span.set_status(Status(StatusCode.ERROR, str(error)))
            self._record(outbound, routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED, str(error), attempt=0)
            return True
        span.set_attribute("social.platform", request.platform.value)
        for attempt in range(1, self._policy.max_attempts + 1):
            outcome = self._client.send(request)
            if outcome.verdict is Verdict.SENT:
                self._remember_survey(outbound)
                # Remembered before the routing event is published: if that fails, the retry must not send again.
                self._sent.confirm(sent_key)
                log.info("reply_sent", platform=request.platform.value, contact_id=outbound.contact_id, attempt=attempt)
                self._record_sent(outbound, attempt)
                return True
            log.warning(
                "reply_send_failed",
                platform=request.platform.value,
                contact_id=outbound.contact_id,
                attempt=attempt,
                verdict=outcome.verdict.value,
                reason=outcome.reason,
            )
            if outcome.verdict is Verdict.PERMANENT or attempt == self._policy.max_attempts:
                span.set_status(Status(StatusCode.ERROR, outcome.reason))
                reason = f"{request.platform.value}: {outcome.reason}"
                self._record(outbound, routing_pb2.ROUTING_EVENT_TYPE_DELIVERY_FAILED, reason, attempt)
                return True
            if self._stop.wait(self._policy.delay_s(attempt, outcome)):
                return False
        return True

    def _remember_survey(self, outbound: contact_pb2.OutboundMessage) -> None:
        """A survey the platform accepted is open: the customer's next bare number answers it."""
        if self._surveys is not None and self._surveys.record_sent(outbound):
            log.info("survey_opened", survey_id=outbound.survey.survey_id, contact_id=outbound.contact_id)

    def _record_sent(self, outbound: contact_pb2.OutboundMessage, attempt: int) -> None:
        if outbound.kind == contact_pb2.OUTBOUND_KIND_AGENT_REPLY:  # acknowledgements and surveys do not change it
            self._record(outbound, routing_pb2.ROUTING_EVENT_TYPE_REPLY_SENT, "", attempt)

    def _record(
        self, outbound: contact_pb2.OutboundMessage, event_type: routing_pb2.RoutingEventType, reason: str, attempt: int
    ) -> None:
        event = routing_pb2.RoutingEvent(
            # One id per outbound message and outcome, so a re-recorded event is recognizably the same one.
            event_id=str(
                uuid.uuid5(
                    uuid.NAMESPACE_URL, f"social-gateway:{outbound.message_id or outbound.contact_id}:{event_type}"
                )
            ),
            contact_id=outbound.contact_id,
            conversation_id=outbound.conversation_id,
            type=event_type,
            agent_id=outbound.agent_id,
            channel=outbound.channel,
            language=outbound.language,
            reason=reason,
            attempt=attempt,
            customer_id=outbound.customer.customer_id,
        )
        event.occurred_at.FromNanoseconds(time.time_ns())
        # Waiting for the ack keeps the commit honest: the offset moves only once the event is stored.
        self._producer.publish_and_wait(ROUTING_EVENTS, outbound.contact_id, event)
