"""A click on a rating link: verify the ticket, refuse what may not be recorded, publish the answer, pick the page.

The answer is on `contacts.feedback` (acknowledged by the broker) before the customer sees "thank you"; when Kafka
does not acknowledge, nothing is recorded and the page asks to try again, so the same click can still count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.exc import SQLAlchemyError

from contactrouting.metrics import FEEDBACK_REFUSED
from contactrouting.survey_scales import SCALE_NAMES, ratings
from contactrouting.survey_tickets import ExpiredSurveyTicket, InvalidSurveyTicket, verify_ticket
from contactrouting.v1 import feedback_pb2
from services.social_gateway.adapters.kafka_sink import KafkaContactSink
from services.social_gateway.domain.chat_surveys import SurveyLedger
from services.social_gateway.domain.feedback_pages import Page, page_language, render_page
from services.social_gateway.domain.intake import SinkUnavailable
from services.social_gateway.domain.survey_answers import AnswerRefused, Refusal, feedback_event, linked_rating

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)

_REFUSAL_PAGES = {
    Refusal.INVALID_TICKET: Page.INVALID,
    Refusal.EXPIRED: Page.EXPIRED,
    Refusal.BAD_SCALE: Page.INVALID,
    Refusal.BAD_RATING: Page.INVALID,
    Refusal.ALREADY_ANSWERED: Page.ALREADY_RECORDED,
}


@dataclass(frozen=True, slots=True)
class LinkAnswer:
    status: int
    html: str


class RatingLinks:
    def __init__(
        self, secret: str, ledger: SurveyLedger, sink: KafkaContactSink, clock_ns: Callable[[], int] = time.time_ns
    ) -> None:
        self._secret = secret
        self._ledger = ledger
        self._sink = sink
        self._clock_ns = clock_ns

    def answer(self, token: str, scale_text: str, rating_text: str, accept_language: str) -> LinkAnswer:
        """Runs in a worker thread: it blocks until Kafka acknowledged the answer."""
        with tracer.start_as_current_span("GET /feedback/{ticket}", kind=trace.SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.route", "/feedback/{ticket}")
            answer = self._answer(token, scale_text, rating_text, accept_language, span)
            span.set_attribute("http.response.status_code", answer.status)
            if answer.status >= 500:
                span.set_status(Status(StatusCode.ERROR, "event bus unavailable"))
            return answer

    def _answer(
        self, token: str, scale_text: str, rating_text: str, accept_language: str, span: trace.Span
    ) -> LinkAnswer:
        now_ns = self._clock_ns()
        language = page_language("", accept_language)
        try:
            ticket = verify_ticket(token, self._secret, now_ns / 1e9)
        except ExpiredSurveyTicket:
            return self._refused(Refusal.EXPIRED, language, span)
        except InvalidSurveyTicket:
            return self._refused(Refusal.INVALID_TICKET, language, span)
        language = page_language(ticket.language, accept_language)
        span.set_attribute("survey.id", ticket.survey_id)
        span.set_attribute("contact.id", ticket.contact_id)
        try:
            scale, rating = linked_rating(ticket, scale_text, rating_text)
        except AnswerRefused as refused:
            return self._refused(refused.refusal, language, span)
        try:
            if not self._ledger.claim_answer(ticket.survey_id, scale):
                return self._refused(Refusal.ALREADY_ANSWERED, language, span)
            event = feedback_event(ticket, scale, rating, "", feedback_pb2.FEEDBACK_SOURCE_RATING_LINK, now_ns)
            try:
                self._sink.publish_feedback(event, lambda: self._ledger.confirm_answer(ticket.survey_id, scale))
            except SinkUnavailable as error:
                self._ledger.release_answer(ticket.survey_id, scale)
                log.error("feedback_publish_failed", error=str(error), survey_id=ticket.survey_id)
                return LinkAnswer(503, render_page(Page.UNAVAILABLE, language))
        except SQLAlchemyError as error:
            # The survey store did not answer: the customer may click again (the page says so).
            log.error("feedback_store_failed", error=type(error).__name__, survey_id=ticket.survey_id)
            return LinkAnswer(503, render_page(Page.UNAVAILABLE, language))
        log.info(
            "feedback_recorded",
            source="rating_link",
            survey_id=ticket.survey_id,
            contact_id=ticket.contact_id,
            scale=SCALE_NAMES[scale],
        )
        return LinkAnswer(200, render_page(Page.THANKS, language, rating=rating, best=ratings(scale)[-1]))

    def _refused(self, refusal: Refusal, language: str, span: trace.Span) -> LinkAnswer:
        FEEDBACK_REFUSED.add(1, {"reason": refusal.reason})
        span.set_attribute("feedback.refused", refusal.reason)
        log.warning("feedback_refused", reason=refusal.reason)
        return LinkAnswer(refusal.status, render_page(_REFUSAL_PAGES[refusal], language))
