"""The router's measurements: latencies and SLA outcomes recorded as they happen, queue and agent gauges read at
scrape time from a snapshot the routing clock refreshes (a scrape never takes the engine lock)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from contactrouting.metrics import (
    AGENT_OCCUPANCY,
    AGENTS_BY_PRESENCE,
    OFFERS_TIMED_OUT,
    QUEUE_DEPTH,
    QUEUE_LONGEST_WAIT,
    SERVICE_COMPLETED,
    SERVICE_CSAT,
    SERVICE_CSAT_RESPONSES,
    SERVICE_FIRST_RESPONSE_TIME,
    SERVICE_NPS,
    SERVICE_NPS_RESPONSES,
    SERVICE_REOPEN_RATE,
    SERVICE_RESOLUTION_TIME,
    SLA_ATTAINMENT,
    SLA_OUTCOMES,
    TIME_TO_ACCEPT,
    TIME_TO_OFFER,
    ChannelLabels,
    PresenceLabels,
    QueueChannelLabels,
    QueueLabels,
    ServiceLabels,
    ServiceTimeLabels,
)
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.contact_mapping import channel_name
from services.router.domain import DomainEvent, OfferAccepted, OfferMade, OfferTimedOut, Presence, QueueStatsView
from services.router.domain.service_report import GroupKey, ServiceRow

# Service gauges are labelled by queue, channel and language (never agent); queues come from the policy and
# channels are six, so only detected languages could multiply series: past this many, the busiest are kept.
MAX_SERVICE_SERIES = 500


class RoutingMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[QueueStatsView] = []
        self._presence: Counter[str] = Counter()
        self._occupancy: dict[str, float] = {}
        self._service: list[tuple[ServiceLabels, ServiceRow]] = []

    def record(self, event: DomainEvent, record: ContactRecord | None, now: float) -> None:
        if record is None:
            return
        labels: QueueChannelLabels = {"queue": record.queue, "channel": channel_name(record.event.channel)}
        match event:
            case OfferMade(attempt=1):
                TIME_TO_OFFER.record(max(0.0, now - record.received_at), labels)
            case OfferAccepted():
                TIME_TO_ACCEPT.record(max(0.0, now - record.received_at), labels)
                outcome = "met" if now <= record.sla_deadline else "missed"
                SLA_OUTCOMES.add(1, {"queue": record.queue, "outcome": outcome})
            case OfferTimedOut():
                OFFERS_TIMED_OUT.add(1, {"queue": record.queue})

    def refresh(
        self, queues: list[QueueStatsView], presence: Mapping[str, Presence], occupancy: Mapping[str, float]
    ) -> None:
        counts = Counter(p.value for p in presence.values())
        with self._lock:
            self._queues = queues
            self._presence = counts
            self._occupancy = dict(occupancy)

    def service_figures(self, figures: Mapping[GroupKey, ServiceRow]) -> None:
        """The figures per (queue, channel, language), from the service history's refresh."""
        busiest = sorted(figures.items(), key=lambda item: (-item[1].completed, item[0]))[:MAX_SERVICE_SERIES]
        series: list[tuple[ServiceLabels, ServiceRow]] = [
            (ServiceLabels(queue=q, channel=c, language=lang), row) for (q, c, lang), row in busiest
        ]
        with self._lock:
            self._service = series

    def install(self) -> None:
        QUEUE_DEPTH.observe_with(lambda: self._per_queue(lambda q: q.waiting))
        QUEUE_LONGEST_WAIT.observe_with(lambda: self._per_queue(lambda q: q.longest_waiting_s))
        SLA_ATTAINMENT.observe_with(lambda: self._per_queue(lambda q: q.sla_attainment_percent / 100))
        AGENTS_BY_PRESENCE.observe_with(self._agents)
        AGENT_OCCUPANCY.observe_with(self._channels)
        SERVICE_COMPLETED.observe_with(lambda: self._per_service(lambda row: row.completed))
        SERVICE_CSAT.observe_with(lambda: self._per_service(lambda row: row.csat_percent, answered="csat"))
        SERVICE_CSAT_RESPONSES.observe_with(lambda: self._per_service(lambda row: row.csat_responses))
        SERVICE_NPS.observe_with(lambda: self._per_service(lambda row: row.nps, answered="nps"))
        SERVICE_NPS_RESPONSES.observe_with(lambda: self._per_service(lambda row: row.nps_responses))
        SERVICE_FIRST_RESPONSE_TIME.observe_with(
            lambda: self._service_times(lambda row: (row.first_response_avg_s, row.first_response_p90_s), replied=True)
        )
        SERVICE_RESOLUTION_TIME.observe_with(
            lambda: self._service_times(lambda row: (row.resolution_avg_s, row.resolution_p90_s))
        )
        SERVICE_REOPEN_RATE.observe_with(lambda: self._per_service(lambda row: row.reopen_rate_percent, completed=True))

    def uninstall(self) -> None:
        for gauge in (QUEUE_DEPTH, QUEUE_LONGEST_WAIT, SLA_ATTAINMENT):
            gauge.observe_with(None)
        AGENTS_BY_PRESENCE.observe_with(None)
        AGENT_OCCUPANCY.observe_with(None)
        for service_gauge in (
            SERVICE_COMPLETED,
            SERVICE_CSAT,
            SERVICE_CSAT_RESPONSES,
            SERVICE_NPS,
            SERVICE_NPS_RESPONSES,
            SERVICE_REOPEN_RATE,
        ):
            service_gauge.observe_with(None)
        SERVICE_FIRST_RESPONSE_TIME.observe_with(None)
        SERVICE_RESOLUTION_TIME.observe_with(None)

    def _per_queue(self, value: Callable[[QueueStatsView], float]) -> Iterable[tuple[float, QueueLabels]]:
        with self._lock:
            return [(float(value(view)), {"queue": view.queue}) for view in self._queues]

    def _agents(self) -> Iterable[tuple[float, PresenceLabels]]:
        with self._lock:
            return [(float(self._presence.get(p.value, 0)), {"presence": p.value}) for p in Presence]

    def _channels(self) -> Iterable[tuple[float, ChannelLabels]]:
        with self._lock:
            return [(share, {"channel": channel}) for channel, share in self._occupancy.items()]

    def _per_service(
        self, value: Callable[[ServiceRow], float], answered: str = "", completed: bool = False
    ) -> Iterable[tuple[float, ServiceLabels]]:
        """A rate is exported only where it has a denominator: no answers is no CSAT, not a CSAT of 0."""
        with self._lock:
            series = self._service
        return [
            (float(value(row)), labels)
            for labels, row in series
            if (answered != "csat" or row.csat_responses)
            and (answered != "nps" or row.nps_responses)
            and (not completed or row.completed)
        ]

    def _service_times(
        self, values: Callable[[ServiceRow], tuple[float, float]], replied: bool = False
    ) -> Iterable[tuple[float, ServiceTimeLabels]]:
        with self._lock:
            series = self._service
        readings: list[tuple[float, ServiceTimeLabels]] = []
        for labels, row in series:
            if not (row.first_responses if replied else row.completed):
                continue
            avg, p90 = values(row)
            readings.append((avg, {**labels, "statistic": "avg"}))
            readings.append((p90, {**labels, "statistic": "p90"}))
        return readings
