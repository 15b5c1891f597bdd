"""Classifying send attempts and choosing the wait before the next one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.social_gateway.domain.delivery_policy import (
    AttemptOutcome,
    RetryPolicy,
    Verdict,
    classify,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.SENT),
        (204, Verdict.SENT),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (408, Verdict.RETRY),
        (None, Verdict.RETRY),
        (400, Verdict.PERMANENT),
        (401, Verdict.PERMANENT),
        (403, Verdict.PERMANENT),
        (404, Verdict.PERMANENT),
    ],
)
def test_classify(status: int | None, verdict: Verdict) -> None:
    assert classify(status, None).verdict is verdict


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 25 Nov 2026 14:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 13:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert classify(429, "3").retry_after_s == 3.0


def test_backoff_doubles_up_to_the_cap_and_retry_after_wins_within_its_cap() -> None:
    policy = RetryPolicy(max_attempts=6, base_backoff_s=0.5, max_backoff_s=3.0, max_retry_after_s=10.0)
    no_hint = AttemptOutcome(Verdict.RETRY)
    assert [policy.delay_s(attempt, no_hint) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay_s(1, AttemptOutcome(Verdict.RETRY, retry_after_s=4.0)) == 4.0
    assert policy.delay_s(1, AttemptOutcome(Verdict.RETRY, retry_after_s=3600.0)) == 10.0
