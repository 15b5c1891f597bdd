"""Running figures per queue: time to accept, timeouts, SLA attainment and the accept rate behind ETAs."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

# Accepts within this window set the service rate used for estimated waits.
RATE_WINDOW_S = 900.0


@dataclass(slots=True)
class QueueCounters:
    accepted: int = 0
    accept_wait_total_s: float = 0.0
    offers_timed_out: int = 0
    sla_met: int = 0
    recent_accepts: deque[float] = field(default_factory=deque)

    @property
    def average_time_to_accept_s(self) -> float:
        return self.accept_wait_total_s / self.accepted if self.accepted else 0.0

    @property
    def sla_attainment_percent(self) -> float:
        return 100.0 * self.sla_met / self.accepted if self.accepted else 100.0

    def accepts_per_s(self, now: float) -> float:
        while self.recent_accepts and self.recent_accepts[0] < now - RATE_WINDOW_S:
            self.recent_accepts.popleft()
        if not self.recent_accepts:
            return 0.0
        span = max(now - self.recent_accepts[0], 1.0)
        return len(self.recent_accepts) / span


class QueueStatistics:
    def __init__(self) -> None:
        self._queues: dict[str, QueueCounters] = {}

    def of(self, queue: str) -> QueueCounters:
        counters = self._queues.get(queue)
        if counters is None:
            counters = self._queues[queue] = QueueCounters()
        return counters

    def accepted(self, queue: str, waited_s: float, within_sla: bool, now: float) -> None:
        counters = self.of(queue)
        counters.accepted += 1
        counters.accept_wait_total_s += waited_s
        counters.sla_met += within_sla
        counters.recent_accepts.append(now)

    def timed_out(self, queue: str) -> None:
        self.of(queue).offers_timed_out += 1

    def estimated_wait_s(self, queue: str, position: int, now: float) -> float:
        """Contacts ahead divided by the recent accept rate; the average wait when there is no recent rate."""
        counters = self.of(queue)
        rate = counters.accepts_per_s(now)
        if rate > 0:
            return position / rate
        return counters.average_time_to_accept_s * position
