"""The router's rolling window of service facts: fed by its own routing events (live and on recovery), by the
gateways' REPLY_SENT and by contacts.feedback; read by RoutingAdmin.GetServiceReport and the service gauges.

Its own lock, never held while calling out, so a report never waits for the engine and the engine never waits for
a report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from contactrouting.v1 import feedback_pb2, routing_pb2
from services.router.adapters.service_facts import absorb_feedback, absorb_routing_event
from services.router.domain.service_ledger import ServiceLedger
from services.router.domain.service_report import (
    ALL,
    DEFAULT_REOPEN_WINDOW_S,
    GroupKey,
    Period,
    ServiceRow,
)

DAY_S = 24 * 3600.0
# Routing history is kept 30 days (contactrouting.topics); facts older than that cannot be complete anyway.
DEFAULT_WINDOW_S = 30 * DAY_S
DEFAULT_MAX_CONTACTS = 100_000
DEFAULT_METRICS_PERIOD_S = 7 * DAY_S
ServiceFigures = dict[GroupKey, ServiceRow]


class ServiceHistory:
    def __init__(
        self,
        window_s: float = DEFAULT_WINDOW_S,
        max_contacts: int = DEFAULT_MAX_CONTACTS,
        reopen_window_s: float = DEFAULT_REOPEN_WINDOW_S,
        metrics_period_s: float = DEFAULT_METRICS_PERIOD_S,
    ) -> None:
        self._ledger = ServiceLedger(window_s, max_contacts)
        self._lock = threading.Lock()
        self.reopen_window_s = reopen_window_s
        self._metrics_period_s = metrics_period_s

    def record(self, event: routing_pb2.RoutingEvent) -> None:
        with self._lock:
            absorb_routing_event(self._ledger, event)

    def record_all(self, events: Iterable[routing_pb2.RoutingEvent]) -> None:
        with self._lock:
            for event in events:
                absorb_routing_event(self._ledger, event)

    def record_feedback(self, event: feedback_pb2.FeedbackEvent) -> bool:
        with self._lock:
            return absorb_feedback(self._ledger, event)

    def report(self, period: Period, group_by: str = ALL) -> list[ServiceRow]:
        """Raises ValueError for an unknown `group_by`."""
        with self._lock:
            return self._ledger.report(period, group_by, self.reopen_window_s)

    def refresh(self, now: float, publish: Callable[[ServiceFigures], None]) -> None:
        """Forget what left the window, and hand the gauges the figures per (queue, channel, language) of the
        contacts completed in the metrics period up to `now`."""
        with self._lock:
            self._ledger.prune(now)
            figures = self._ledger.figures_by(
                Period(now - self._metrics_period_s, float("inf")),
                lambda who: (who.queue, who.channel, who.language),
                self.reopen_window_s,
            )
        publish(figures)
