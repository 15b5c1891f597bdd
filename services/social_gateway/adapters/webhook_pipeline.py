"""One webhook delivery, whatever the platform: receive span, verify, normalize, publish, answer."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.exc import SQLAlchemyError

from contactrouting.metrics import DEAD_LETTERS, WEBHOOK_ITEMS_SKIPPED, WEBHOOK_SIGNATURE_FAILURES
from services.social_gateway.domain.intake import SinkUnavailable, WebhookIntake, hashed
from services.social_gateway.domain.messages import InboundMessage, MalformedPayload, Normalized
from services.social_gateway.domain.replay_window import ReplayWindow
from services.social_gateway.domain.signatures import Verdict

log = structlog.get_logger()
tracer = trace.get_tracer(__name__)

_REFUSED_STATUS = {Verdict.MISSING: 401, Verdict.INVALID: 403}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A request as the pipeline sees it: the route, the raw body and how to check and read it."""

    platform: str
    route: str
    body: bytes
    verify: Callable[[], Verdict]
    normalize: Callable[[bytes], Normalized]
    details: dict[str, str] = field(default_factory=dict)


class WebhookPipeline:
    def __init__(self, intake: WebhookIntake, window: ReplayWindow, clock: Callable[[], float] = time.time) -> None:
        self._intake = intake
        self._window = window
        self._clock = clock
        self.counters: Counter[str] = Counter()

    def handle(self, delivery: Delivery) -> Answer:
        """Runs in a worker thread: it blocks until Kafka acknowledged, which is the point."""
        with tracer.start_as_current_span(f"POST {delivery.route}", kind=trace.SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", "POST")
            span.set_attribute("http.route", delivery.route)
            span.set_attribute("social.platform", delivery.platform)
            answer = self._handle(delivery, span)
            span.set_attribute("http.response.status_code", answer.status)
            if answer.status >= 500:
                span.set_status(Status(StatusCode.ERROR, str(answer.body.get("error", ""))))
            return answer

    def _handle(self, delivery: Delivery, span: trace.Span) -> Answer:
        verdict = delivery.verify()
        if verdict is not Verdict.VALID:
            self.counters[f"{delivery.platform}.signature_{verdict.value}"] += 1
            WEBHOOK_SIGNATURE_FAILURES.add(1, {"platform": delivery.platform, "verdict": verdict.value})
            log.warning("webhook_signature_refused", platform=delivery.platform, verdict=verdict.value)
            return Answer(_REFUSED_STATUS[verdict], {"error": f"signature {verdict.value}"})
        try:
            normalized = delivery.normalize(delivery.body)
        except MalformedPayload as malformed:
            return self._dead_letter(delivery, malformed)
        screened = self._window.screen(normalized, self._clock())
        if screened.stale and not self._dead_letter_stale(delivery, screened.stale):
            return Answer(503, {"error": "event bus unavailable, retry later"})
        try:
            outcome = self._intake.accept(screened.fresh)
        except SinkUnavailable as error:
            self.counters[f"{delivery.platform}.unavailable"] += 1
            log.error("webhook_publish_failed", platform=delivery.platform, error=str(error))
            return Answer(503, {"error": "event bus unavailable, retry later"})
        except SQLAlchemyError as error:
            # The shared store (dedupe keys, surveys) did not answer: the platform's retry publishes what no
            # acknowledgement confirmed. Only the error's type is logged; its text would name the database.
            self.counters[f"{delivery.platform}.store_unavailable"] += 1
            log.error("webhook_store_failed", platform=delivery.platform, error=type(error).__name__)
            return Answer(503, {"error": "state store unavailable, retry later"})
        span.set_attribute("social.messages.published", outcome.published)
        span.set_attribute("social.messages.duplicates", outcome.duplicates)
        span.set_attribute("social.items.skipped", outcome.skipped)
        span.set_attribute("social.survey_answers", outcome.survey_answers)
        self.counters[f"{delivery.platform}.published"] += outcome.published
        self.counters[f"{delivery.platform}.duplicates"] += outcome.duplicates
        self.counters[f"{delivery.platform}.skipped"] += outcome.skipped
        for (platform, reason), count in outcome.skipped_by_reason.items():
            WEBHOOK_ITEMS_SKIPPED.add(count, {"platform": platform, "reason": reason})
        self.counters[f"{delivery.platform}.survey_answers"] += outcome.survey_answers
        log.info(
            "webhook_accepted",
            platform=delivery.platform,
            published=outcome.published,
            duplicates=outcome.duplicates,
            skipped=outcome.skipped,
            survey_answers=outcome.survey_answers,
        )
        counts = {"published": outcome.published, "duplicates": outcome.duplicates, "skipped": outcome.skipped}
        if outcome.survey_answers:
            counts["survey_answers"] = outcome.survey_answers
        return Answer(200, counts | ({"stale": len(screened.stale)} if screened.stale else {}))

    def _dead_letter_stale(self, delivery: Delivery, stale: tuple[InboundMessage, ...]) -> bool:
        """Messages older than the replay window: kept on the dead-letter topic, counted, not routed."""
        details = {
            "stale_messages": ",".join(hashed(m.dedupe_key) for m in stale),
            "oldest_sent_at_s": str(int(min(m.sent_at_s for m in stale))),
        }
        if not self._keep_dead_letter(delivery, "message older than the replay window", details, "stale", len(stale)):
            return False
        log.warning("webhook_stale_messages", platform=delivery.platform, stale=len(stale))
        return True

    def _dead_letter(self, delivery: Delivery, malformed: MalformedPayload) -> Answer:
        if not self._keep_dead_letter(delivery, malformed.reason, {}, "malformed", 1, metric_reason=malformed.code):
            return Answer(503, {"error": "event bus unavailable, retry later"})
        log.warning("webhook_malformed", platform=delivery.platform, reason=malformed.reason, size=len(delivery.body))
        return Answer(400, {"error": "malformed payload", "reason": malformed.reason})

    def _keep_dead_letter(
        self,
        delivery: Delivery,
        reason: str,
        details: dict[str, str],
        counter: str,
        count: int,
        metric_reason: str = "",
    ) -> bool:
        """The raw body on the dead-letter topic, counted; False when Kafka did not take it, so the caller makes
        the platform retry: without a dead letter the payload would vanish."""
        source = f"social_gateway.{delivery.platform}"
        try:
            self._intake.reject(source, reason, delivery.body, {"route": delivery.route, **delivery.details, **details})
        except SinkUnavailable as error:
            log.error("dead_letter_failed", platform=delivery.platform, error=str(error))
            return False
        self.counters[f"{delivery.platform}.{counter}"] += count
        DEAD_LETTERS.add(count, {"source": source, "reason": metric_reason or counter})
        return True
