"""The router's rolling window of service facts: fed by its own routing events (live and on recovery), by the
gateways' REPLY_SENT and by contacts.feedback; read by RoutingAdmin.GetServiceReport and the service gauges.

Routing events are only appended to an inbox here (a deque append: no lock, O(1)), because they come from under
the switchboard's lock; they are folded in by whoever reads next, under the history's own lock. So the engine never
waits for a report, and a report never waits for the engine.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from contactrouting.v1 import feedback_pb2, routing_pb2
from services.router.adapters.service_facts import Absorbed, absorb_feedback, absorb_routing_event
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
# The inbox is folded on every read (at least every refresh); this only guards against nobody reading.
INBOX_FOLD_AT = 50_000
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
        self._inbox: deque[routing_pb2.RoutingEvent] = deque()
        self.reopen_window_s = reopen_window_s
        self._metrics_period_s = metrics_period_s

    def record(self, event: routing_pb2.RoutingEvent) -> None:
        self._inbox.append(event)
        if len(self._inbox) >= INBOX_FOLD_AT:
            with self._lock:
                self._fold_inbox()

    def record_all(self, events: Iterable[routing_pb2.RoutingEvent]) -> None:
        self._inbox.extend(events)

    def record_feedback(self, event: feedback_pb2.FeedbackEvent) -> Absorbed:
        with self._lock:
            return absorb_feedback(self._ledger, event)

    def report(self, period: Period, group_by: str = ALL) -> list[ServiceRow]:
        """Raises ValueError for an unknown `group_by`."""
        with self._lock:
            self._fold_inbox()
            return self._ledger.report(period, group_by, self.reopen_window_s)

    def refresh(self, now: float, publish: Callable[[ServiceFigures], None]) -> None:
        """Forget what left the window, and hand the gauges the figures per (queue, channel, language) of the
        contacts completed in the metrics period up to `now`."""
        with self._lock:
            self._fold_inbox()
            self._ledger.prune(now)
            figures = self._ledger.figures_by(
                Period(now - self._metrics_period_s, float("inf")),
                lambda who: (who.queue, who.channel, who.language),
                self.reopen_window_s,
            )
        publish(figures)

    def _fold_inbox(self) -> None:
        """Under the lock: the routing events recorded since the last read, in the order they were recorded."""
        while self._inbox:
            absorb_routing_event(self._ledger, self._inbox.popleft())
