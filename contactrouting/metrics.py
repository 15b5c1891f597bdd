"""OpenTelemetry metrics with a Prometheus scrape endpoint, and the catalogue of the platform's instruments.

Services record with one line, e.g. `CONTACTS_RECEIVED.add(1, {"channel": "email", "language": "hr"})`; the
label keys of each instrument are a TypedDict, so mypy rejects a missing or unexpected label at the call site.
Label values are bounded enumerations (channel, language, queue, reason code, presence), never PII: a value that
does not look like such a token (an address, a phone number, free text) is exported as "other" instead.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar
from wsgiref.simple_server import WSGIServer

import structlog
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource

from contactrouting.config import ServiceSettings

log = structlog.get_logger()

METER_NAME = "contactrouting"
# Lower-case tokens only: an "@", a "+", a space or an upper-case letter means someone passed an identity or text.
_LABEL_VALUE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
# A long run of digits is a phone number or a platform user id, not a partition or a count.
_DIGITS = re.compile(r"^\d{7,}$")
REDACTED_LABEL_VALUE = "other"
# Seconds, from sub-second automatic routing to an hour in a queue that nobody staffs.
WAIT_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class ChannelLanguageLabels(TypedDict):
    channel: str
    language: str


class DeadLetterLabels(TypedDict):
    source: str
    reason: str


class QueueLabels(TypedDict):
    queue: str


class QueueChannelLabels(TypedDict):
    queue: str
    channel: str


class SlaLabels(TypedDict):
    queue: str
    outcome: str  # met | missed


class PresenceLabels(TypedDict):
    presence: str  # available | away | offline


class ChannelLabels(TypedDict):
    channel: str


class WebhookSignatureLabels(TypedDict):
    platform: str  # telegram | meta | x
    verdict: str  # missing | invalid


class ReasonLabels(TypedDict):
    reason: str


class SkippedItemLabels(TypedDict):
    platform: str  # messenger | instagram | whatsapp | telegram | x
    reason: str  # echo | delivery | read | status | own_message | bot_sender | unsupported


class FeedbackLabels(TypedDict):
    channel: str
    scale: str  # csat | nps


class SurveyLabels(TypedDict):
    queue: str
    outcome: str  # sent, or why not: disabled | channel_not_surveyed | no_customer | surveyed_recently | too_late


class ConsumerLagLabels(TypedDict):
    group: str
    topic: str
    partition: str


class TopicLabels(TypedDict):
    topic: str


class ServiceLabels(TypedDict):
    queue: str
    channel: str
    language: str


class ServiceTimeLabels(TypedDict):
    queue: str
    channel: str
    language: str
    statistic: str  # avg | p90


LabelsT = TypeVar("LabelsT", bound=Mapping[str, Any])
Reading = tuple[float, LabelsT]


def label_value(value: object) -> str:
    """The exported form of one label value: a lower-case token, or "other" when it might carry PII."""
    text = str(value).strip().lower()
    if _LABEL_VALUE.match(text) and not _DIGITS.match(text):
        return text
    return REDACTED_LABEL_VALUE


def _attributes(labels: Mapping[str, Any], keys: frozenset[str]) -> dict[str, str]:
    # Keys outside the declared set are dropped: only mypy-unchecked callers can pass them, and they may be PII.
    return {key: label_value(value) for key, value in labels.items() if key in keys}


@dataclass
class Counter(Generic[LabelsT]):
    name: str
    unit: str
    description: str
    labels: frozenset[str]
    _instrument: metrics.Counter | None = field(default=None, repr=False)

    def bind(self, meter: Meter) -> Counter[LabelsT]:
        self._instrument = meter.create_counter(self.name, unit=self.unit, description=self.description)
        return self

    def add(self, amount: int, labels: LabelsT) -> None:
        assert self._instrument is not None, f"{self.name} is not bound to a meter"
        self._instrument.add(amount, _attributes(labels, self.labels))


@dataclass
class Histogram(Generic[LabelsT]):
    name: str
    unit: str
    description: str
    labels: frozenset[str]
    buckets: tuple[float, ...]
    _instrument: metrics.Histogram | None = field(default=None, repr=False)

    def bind(self, meter: Meter) -> Histogram[LabelsT]:
        self._instrument = meter.create_histogram(
            self.name,
            unit=self.unit,
            description=self.description,
            explicit_bucket_boundaries_advisory=self.buckets,
        )
        return self

    def record(self, value: float, labels: LabelsT) -> None:
        assert self._instrument is not None, f"{self.name} is not bound to a meter"
        self._instrument.record(value, _attributes(labels, self.labels))


@dataclass
class Gauge(Generic[LabelsT]):
    """A value the owner sets when it learns it, e.g. consumer lag after each poll."""

    name: str
    unit: str
    description: str
    labels: frozenset[str]
    _instrument: metrics._Gauge | None = field(default=None, repr=False)

    def bind(self, meter: Meter) -> Gauge[LabelsT]:
        self._instrument = meter.create_gauge(self.name, unit=self.unit, description=self.description)
        return self

    def set(self, value: float, labels: LabelsT) -> None:
        assert self._instrument is not None, f"{self.name} is not bound to a meter"
        self._instrument.set(value, _attributes(labels, self.labels))


@dataclass
class ObservedGauge(Generic[LabelsT]):
    """A value read at scrape time from a source the owning service registers with `observe_with`.

    The source runs on the scrape thread: it must be thread-safe and cheap (read a snapshot under a lock).
    """

    name: str
    unit: str
    description: str
    labels: frozenset[str]
    _source: Callable[[], Iterable[Reading[LabelsT]]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bind(self, meter: Meter) -> ObservedGauge[LabelsT]:
        meter.create_observable_gauge(
            self.name, callbacks=[self._observe], unit=self.unit, description=self.description
        )
        return self

    def observe_with(self, source: Callable[[], Iterable[Reading[LabelsT]]] | None) -> None:
        """Install (or with None, remove) the one source of this gauge's readings."""
        with self._lock:
            self._source = source

    def _observe(self, _: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            source = self._source
        if source is None:
            return []
        return [Observation(value, _attributes(labels, self.labels)) for value, labels in source()]


def _keys(labels: type) -> frozenset[str]:
    return frozenset(labels.__annotations__)


@dataclass(frozen=True)
class Instruments:
    """Every instrument of the platform, bound to one meter."""

    contacts_received: Counter[ChannelLanguageLabels]
    dead_letters: Counter[DeadLetterLabels]
    queue_depth: ObservedGauge[QueueLabels]
    queue_longest_wait: ObservedGauge[QueueLabels]
    time_to_offer: Histogram[QueueChannelLabels]
    time_to_accept: Histogram[QueueChannelLabels]
    offers_timed_out: Counter[QueueLabels]
    sla_outcomes: Counter[SlaLabels]
    sla_attainment: ObservedGauge[QueueLabels]
    agents_by_presence: ObservedGauge[PresenceLabels]
    agent_occupancy: ObservedGauge[ChannelLabels]
    webhook_signature_failures: Counter[WebhookSignatureLabels]
    webhook_items_skipped: Counter[SkippedItemLabels]
    smtp_rejects: Counter[ReasonLabels]
    feedback_recorded: Counter[FeedbackLabels]
    feedback_refused: Counter[ReasonLabels]
    surveys: Counter[SurveyLabels]
    consumer_lag: Gauge[ConsumerLagLabels]
    outbox_pending: ObservedGauge[TopicLabels]
    outbox_published: Counter[TopicLabels]
    service_completed: ObservedGauge[ServiceLabels]
    service_csat: ObservedGauge[ServiceLabels]
    service_csat_responses: ObservedGauge[ServiceLabels]
    service_nps: ObservedGauge[ServiceLabels]
    service_nps_responses: ObservedGauge[ServiceLabels]
    service_first_response_time: ObservedGauge[ServiceTimeLabels]
    service_resolution_time: ObservedGauge[ServiceTimeLabels]
    service_reopen_rate: ObservedGauge[ServiceLabels]


def build_instruments(meter: Meter) -> Instruments:
    """The catalogue; its names, units and labels are the contract of dashboards and alerts."""
    channel_language = _keys(ChannelLanguageLabels)
    queue = _keys(QueueLabels)
    queue_channel = _keys(QueueChannelLabels)
    service = _keys(ServiceLabels)
    service_time = _keys(ServiceTimeLabels)
    return Instruments(
        contacts_received=Counter[ChannelLanguageLabels](
            "contacts.received", "{contact}", "Customer messages accepted by a gateway.", channel_language
        ).bind(meter),
        dead_letters=Counter[DeadLetterLabels](
            "contacts.dead_letters", "{record}", "Inputs that could not become a contact.", _keys(DeadLetterLabels)
        ).bind(meter),
        queue_depth=ObservedGauge[QueueLabels](
            "routing.queue.depth", "{contact}", "Contacts waiting in the queue.", queue
        ).bind(meter),
        queue_longest_wait=ObservedGauge[QueueLabels](
            "routing.queue.longest_wait", "s", "Wait of the oldest contact in the queue.", queue
        ).bind(meter),
        time_to_offer=Histogram[QueueChannelLabels](
            "routing.time_to_offer", "s", "From receipt to the first offer.", queue_channel, WAIT_BUCKETS_S
        ).bind(meter),
        time_to_accept=Histogram[QueueChannelLabels](
            "routing.time_to_accept", "s", "From receipt to the agent's accept.", queue_channel, WAIT_BUCKETS_S
        ).bind(meter),
        offers_timed_out=Counter[QueueLabels](
            "routing.offers.timed_out", "{offer}", "Offers the agent let expire.", queue
        ).bind(meter),
        sla_outcomes=Counter[SlaLabels](
            "routing.sla.outcomes", "{contact}", "Accepted contacts by SLA outcome (met|missed).", _keys(SlaLabels)
        ).bind(meter),
        sla_attainment=ObservedGauge[QueueLabels](
            "routing.sla.attainment", "1", "Share of contacts accepted within the SLA target.", queue
        ).bind(meter),
        agents_by_presence=ObservedGauge[PresenceLabels](
            "routing.agents", "{agent}", "Connected agents by presence.", _keys(PresenceLabels)
        ).bind(meter),
        agent_occupancy=ObservedGauge[ChannelLabels](
            "routing.agent.occupancy", "1", "Busy share of logged-in agents' capacity.", _keys(ChannelLabels)
        ).bind(meter),
        webhook_signature_failures=Counter[WebhookSignatureLabels](
            "webhook.signature_failures",
            "{request}",
            "Webhook calls refused for a missing or invalid signature.",
            _keys(WebhookSignatureLabels),
        ).bind(meter),
        webhook_items_skipped=Counter[SkippedItemLabels](
            "webhook.items.skipped",
            "{item}",
            "Webhook items that are not customer contacts (echoes, receipts, statuses), recorded and never routed.",
            _keys(SkippedItemLabels),
        ).bind(meter),
        smtp_rejects=Counter[ReasonLabels](
            "smtp.rejects", "{message}", "SMTP transactions refused, by reason code.", _keys(ReasonLabels)
        ).bind(meter),
        feedback_recorded=Counter[FeedbackLabels](
            "feedback.recorded", "{answer}", "Survey answers published to contacts.feedback.", _keys(FeedbackLabels)
        ).bind(meter),
        feedback_refused=Counter[ReasonLabels](
            "feedback.refused", "{answer}", "Survey answers refused, by reason code.", _keys(ReasonLabels)
        ).bind(meter),
        surveys=Counter[SurveyLabels](
            "routing.surveys",
            "{contact}",
            "Completed contacts by survey outcome: sent, or why no survey was sent.",
            _keys(SurveyLabels),
        ).bind(meter),
        consumer_lag=Gauge[ConsumerLagLabels](
            "kafka.consumer.lag", "{record}", "Records behind the partition's end.", _keys(ConsumerLagLabels)
        ).bind(meter),
        outbox_pending=ObservedGauge[TopicLabels](
            "outbox.pending", "{record}", "Committed changes the broker has not acknowledged yet.", _keys(TopicLabels)
        ).bind(meter),
        outbox_published=Counter[TopicLabels](
            "outbox.published", "{record}", "Outbox records acknowledged by the broker.", _keys(TopicLabels)
        ).bind(meter),
        # Service figures over the contacts completed in the router's metrics period (7 days by default).
        service_completed=ObservedGauge[ServiceLabels](
            "service.completed", "{contact}", "Contacts completed in the metrics period.", service
        ).bind(meter),
        service_csat=ObservedGauge[ServiceLabels](
            "service.csat", "%", "Share of CSAT answers rated 4 or 5.", service
        ).bind(meter),
        service_csat_responses=ObservedGauge[ServiceLabels](
            "service.csat.responses", "{answer}", "CSAT answers behind service.csat.", service
        ).bind(meter),
        service_nps=ObservedGauge[ServiceLabels](
            "service.nps", "{point}", "Net promoter score: % of 9-10 answers minus % of 0-6 answers.", service
        ).bind(meter),
        service_nps_responses=ObservedGauge[ServiceLabels](
            "service.nps.responses", "{answer}", "NPS answers behind service.nps.", service
        ).bind(meter),
        service_first_response_time=ObservedGauge[ServiceTimeLabels](
            "service.first_response_time", "s", "From receipt to the first reply sent (avg|p90).", service_time
        ).bind(meter),
        service_resolution_time=ObservedGauge[ServiceTimeLabels](
            "service.resolution_time", "s", "From receipt to completion (avg|p90).", service_time
        ).bind(meter),
        service_reopen_rate=ObservedGauge[ServiceLabels](
            "service.reopen_rate", "%", "Completed contacts whose conversation came back in the reopen window.", service
        ).bind(meter),
    )


# Bound to the API's proxy meter: recording before `setup_metrics` is a no-op, and afterwards goes to the SDK.
INSTRUMENTS = build_instruments(metrics.get_meter(METER_NAME))
CONTACTS_RECEIVED = INSTRUMENTS.contacts_received
DEAD_LETTERS = INSTRUMENTS.dead_letters
QUEUE_DEPTH = INSTRUMENTS.queue_depth
QUEUE_LONGEST_WAIT = INSTRUMENTS.queue_longest_wait
TIME_TO_OFFER = INSTRUMENTS.time_to_offer
TIME_TO_ACCEPT = INSTRUMENTS.time_to_accept
OFFERS_TIMED_OUT = INSTRUMENTS.offers_timed_out
SLA_OUTCOMES = INSTRUMENTS.sla_outcomes
SLA_ATTAINMENT = INSTRUMENTS.sla_attainment
AGENTS_BY_PRESENCE = INSTRUMENTS.agents_by_presence
AGENT_OCCUPANCY = INSTRUMENTS.agent_occupancy
WEBHOOK_SIGNATURE_FAILURES = INSTRUMENTS.webhook_signature_failures
WEBHOOK_ITEMS_SKIPPED = INSTRUMENTS.webhook_items_skipped
SMTP_REJECTS = INSTRUMENTS.smtp_rejects
FEEDBACK_RECORDED = INSTRUMENTS.feedback_recorded
FEEDBACK_REFUSED = INSTRUMENTS.feedback_refused
SURVEYS = INSTRUMENTS.surveys
CONSUMER_LAG = INSTRUMENTS.consumer_lag
OUTBOX_PENDING = INSTRUMENTS.outbox_pending
OUTBOX_PUBLISHED = INSTRUMENTS.outbox_published
SERVICE_COMPLETED = INSTRUMENTS.service_completed
SERVICE_CSAT = INSTRUMENTS.service_csat
SERVICE_CSAT_RESPONSES = INSTRUMENTS.service_csat_responses
SERVICE_NPS = INSTRUMENTS.service_nps
SERVICE_NPS_RESPONSES = INSTRUMENTS.service_nps_responses
SERVICE_FIRST_RESPONSE_TIME = INSTRUMENTS.service_first_response_time
SERVICE_RESOLUTION_TIME = INSTRUMENTS.service_resolution_time
SERVICE_REOPEN_RATE = INSTRUMENTS.service_reopen_rate


@dataclass
class MetricsEndpoint:
    """The process's meter provider and, when enabled, its scrape server."""

    provider: MeterProvider
    port: int | None
    _server: WSGIServer | None = None
    _thread: threading.Thread | None = None

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.provider.shutdown()


def setup_metrics(service_name: str, settings: ServiceSettings, host: str = "0.0.0.0") -> MetricsEndpoint:
    """Install the process-wide meter provider; serve `/metrics` on METRICS_PORT unless it is 0."""
    resource = Resource.create({"service.name": service_name})
    if not settings.metrics_port:
        provider = MeterProvider(resource=resource)
        metrics.set_meter_provider(provider)
        return MetricsEndpoint(provider, None)

    # Imported here: only a process that serves metrics needs the Prometheus client and its global registry.
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import start_http_server

    provider = MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()])
    metrics.set_meter_provider(provider)
    server, thread = start_http_server(settings.metrics_port, addr=host)
    port = int(server.server_address[1])
    log.info("metrics_ready", port=port, path="/metrics")
    return MetricsEndpoint(provider, port, server, thread)
