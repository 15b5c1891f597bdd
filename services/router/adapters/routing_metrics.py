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
    SLA_ATTAINMENT,
    SLA_OUTCOMES,
    TIME_TO_ACCEPT,
    TIME_TO_OFFER,
    ChannelLabels,
    PresenceLabels,
    QueueChannelLabels,
    QueueLabels,
)
from services.router.adapters.contact_book import ContactRecord
from services.router.adapters.contact_mapping import channel_name
from services.router.domain import DomainEvent, OfferAccepted, OfferMade, OfferTimedOut, Presence, QueueStatsView


class RoutingMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[QueueStatsView] = []
        self._presence: Counter[str] = Counter()
        self._occupancy: dict[str, float] = {}

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

    def install(self) -> None:
        QUEUE_DEPTH.observe_with(lambda: self._per_queue(lambda q: q.waiting))
        QUEUE_LONGEST_WAIT.observe_with(lambda: self._per_queue(lambda q: q.longest_waiting_s))
        SLA_ATTAINMENT.observe_with(lambda: self._per_queue(lambda q: q.sla_attainment_percent / 100))
        AGENTS_BY_PRESENCE.observe_with(self._agents)
        AGENT_OCCUPANCY.observe_with(self._channels)

    def uninstall(self) -> None:
        for gauge in (QUEUE_DEPTH, QUEUE_LONGEST_WAIT, SLA_ATTAINMENT):
            gauge.observe_with(None)
        AGENTS_BY_PRESENCE.observe_with(None)
        AGENT_OCCUPANCY.observe_with(None)

    def _per_queue(self, value: Callable[[QueueStatsView], float]) -> Iterable[tuple[float, QueueLabels]]:
        with self._lock:
            return [(float(value(view)), {"queue": view.queue}) for view in self._queues]

    def _agents(self) -> Iterable[tuple[float, PresenceLabels]]:
        with self._lock:
            return [(float(self._presence.get(p.value, 0)), {"presence": p.value}) for p in Presence]

    def _channels(self) -> Iterable[tuple[float, ChannelLabels]]:
        with self._lock:
            return [(share, {"channel": channel}) for channel, share in self._occupancy.items()]
