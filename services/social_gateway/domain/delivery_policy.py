"""How a send attempt ended, and when to try again: platforms ask for backoff with 429 and Retry-After."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum


class Verdict(Enum):
    SENT = "sent"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    verdict: Verdict
    reason: str = ""
    # For RETRY: the platform's own wait, when it named one.
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 60.0

    def delay_s(self, attempt: int, outcome: AttemptOutcome) -> float:
        """The wait before attempt `attempt + 1`: the platform's Retry-After if given, else exponential."""
        if outcome.retry_after_s is not None:
            return min(outcome.retry_after_s, self.max_retry_after_s)
        return min(self.base_backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


def classify(
    status: int | None, retry_after: str | None, error: str = "", now: datetime | None = None
) -> AttemptOutcome:
    """`status` None means no HTTP answer at all (connection refused, timeout): worth retrying."""
    if status is None:
        return AttemptOutcome(Verdict.RETRY, f"no response: {error}")
    if 200 <= status < 300:
        return AttemptOutcome(Verdict.SENT)
    if status == 429 or status >= 500 or status == 408:
        return AttemptOutcome(Verdict.RETRY, f"HTTP {status}", parse_retry_after(retry_after, now))
    return AttemptOutcome(Verdict.PERMANENT, f"HTTP {status}{': ' + error if error else ''}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
