"""Service figures computed by hand from a small, explicit history.

Period [T, T + 1 day). Completed in it (received -> first reply -> completed; agent, queue, channel, language):
  c1: T      -> T+60  -> T+600    a1 billing email hr   (its conversation comes back at T+4200: reopened)
  c2: T+100  -> T+220 -> T+1900   a1 billing email hr
  c3: T+200  -> none  -> T+500    a2 general telegram en (its conversation comes back 8 days later)
  c4: T+300  -> T+400 (a1 replied, then the contact was requeued) -> T+1200 completed by a2, billing email hr
Outside: c0 completed at T-10 (answered CSAT 1 inside the period: not counted).
Answers: c1 CSAT 5 NPS 10, c2 CSAT 4 NPS 7, c3 CSAT 5, c4 CSAT 2 NPS 3, and cx (history aged out; its ticket
says a3 billing email hr, completed T+50) CSAT 4 NPS 9.
"""

from __future__ import annotations

import pytest

from services.router.domain.service_ledger import ServiceLedger
from services.router.domain.service_report import (
    Attribution,
    Period,
    Scale,
    ServiceRow,
    SurveyAnswer,
    p90,
)

T = 1_800_000_000.0
DAY = 86_400.0
PERIOD = Period(T, T + DAY)
A1_BILLING = Attribution("a1", "billing", "email", "hr")
A2_BILLING = Attribution("a2", "billing", "email", "hr")
A2_GENERAL = Attribution("a2", "general", "telegram", "en")


def answer(
    contact_id: str, scale: Scale, rating: int, attribution: Attribution = A1_BILLING, **kw: float
) -> SurveyAnswer:
    return SurveyAnswer(
        survey_id=f"s-{contact_id}",
        contact_id=contact_id,
        scale=scale,
        rating=rating,
        attribution=attribution,
        completed_at=kw.get("completed_at", 0.0),
        answered_at=kw.get("answered_at", T + 5000),
    )


def contact(
    ledger: ServiceLedger, contact_id: str, received: float, completed: float, who: Attribution, **kw: float
) -> None:
    ledger.queued(contact_id, str(kw.get("conversation", f"conv-{contact_id}")), received, received + 1)
    if "reply" in kw:
        ledger.replied(contact_id, kw["reply"])
    ledger.completed(contact_id, who, completed)


@pytest.fixture
def ledger() -> ServiceLedger:
    ledger = ServiceLedger()
    contact(ledger, "c0", T - 1000, T - 10, A1_BILLING)
    contact(ledger, "c1", T, T + 600, A1_BILLING, reply=T + 60)
    contact(ledger, "c2", T + 100, T + 1900, A1_BILLING, reply=T + 220)
    contact(ledger, "c3", T + 200, T + 500, A2_GENERAL)
    # c4: a1 answered first, the contact was requeued (a1 went away) and a2 finished it.
    ledger.queued("c4", "conv-c4", T + 300, T + 301)
    ledger.replied("c4", T + 400)
    ledger.completed("c4", A2_BILLING, T + 1200)
    # Later contacts of c1's and c3's conversations: one hour and eight days after their completion.
    ledger.queued("c6", "conv-c1", T + 4200, T + 4200)
    ledger.queued("c7", "conv-c3", T + 500 + 8 * DAY, T + 500 + 8 * DAY)
    for given in (
        answer("c0", Scale.CSAT, 1, answered_at=T + 50),
        answer("c1", Scale.CSAT, 5),
        answer("c1", Scale.NPS, 10),
        answer("c2", Scale.CSAT, 4),
        answer("c2", Scale.NPS, 7),
        answer("c3", Scale.CSAT, 5, A2_GENERAL),
        answer("c4", Scale.CSAT, 2, A2_BILLING),
        answer("c4", Scale.NPS, 3, A2_BILLING),
        answer("cx", Scale.CSAT, 4, Attribution("a3", "billing", "email", "hr"), completed_at=T + 50),
        answer("cx", Scale.NPS, 9, Attribution("a3", "billing", "email", "hr"), completed_at=T + 50),
    ):
        ledger.answered(given)
    return ledger


def row(key: str, **figures: object) -> ServiceRow:
    zero = dict.fromkeys(ServiceRow.__dataclass_fields__, 0)
    return ServiceRow(**{**zero, "key": key, **figures})  # type: ignore[arg-type]


def test_all(ledger: ServiceLedger) -> None:
    (total,) = ledger.report(PERIOD, "all")
    assert total == row(
        "all",
        completed=4,
        csat_responses=5,
        csat_percent=80.0,  # 5, 4, 5, 2, 4: four of five are 4-5
        nps_responses=4,
        nps=25.0,  # 10, 7, 3, 9: 50 % promoters - 25 % detractors
        first_responses=3,
        first_response_avg_s=pytest.approx(280 / 3),  # 60, 120, 100
        first_response_p90_s=120.0,
        resolution_avg_s=900.0,  # 600, 1800, 300, 900
        resolution_p90_s=1800.0,
        reopened=1,
        reopen_rate_percent=25.0,
    )


def test_by_agent_a_requeued_contact_counts_for_the_agent_who_completed_it(ledger: ServiceLedger) -> None:
    assert ledger.report(PERIOD, "agent") == [
        row(
            "a1",
            completed=2,
            csat_responses=2,
            csat_percent=100.0,
            nps_responses=2,
            nps=50.0,
            first_responses=2,
            first_response_avg_s=90.0,
            first_response_p90_s=120.0,
            resolution_avg_s=1200.0,
            resolution_p90_s=1800.0,
            reopened=1,
            reopen_rate_percent=50.0,
        ),
        row(
            "a2",
            completed=2,
            csat_responses=2,
            csat_percent=50.0,
            nps_responses=1,
            nps=-100.0,
            first_responses=1,
            first_response_avg_s=100.0,
            first_response_p90_s=100.0,
            resolution_avg_s=600.0,
            resolution_p90_s=900.0,
        ),
        # Only answers: the contact's routing history is gone, its ticket still says who handled it.
        row("a3", csat_responses=1, csat_percent=100.0, nps_responses=1, nps=100.0),
    ]


def test_by_queue_with_no_responses_as_zero(ledger: ServiceLedger) -> None:
    billing, general = ledger.report(PERIOD, "queue")
    assert billing == row(
        "billing",
        completed=3,
        csat_responses=4,
        csat_percent=75.0,
        nps_responses=4,
        nps=25.0,
        first_responses=3,
        first_response_avg_s=pytest.approx(280 / 3),
        first_response_p90_s=120.0,
        resolution_avg_s=1100.0,
        resolution_p90_s=1800.0,
        reopened=1,
        reopen_rate_percent=pytest.approx(100 / 3),
    )
    assert general == row(
        "general", completed=1, csat_responses=1, csat_percent=100.0, resolution_avg_s=300.0, resolution_p90_s=300.0
    )


def test_by_channel_and_language(ledger: ServiceLedger) -> None:
    assert [(r.key, r.completed, r.csat_responses) for r in ledger.report(PERIOD, "channel")] == [
        ("email", 3, 4),
        ("telegram", 1, 1),
    ]
    assert [(r.key, r.completed, r.nps_responses) for r in ledger.report(PERIOD, "language")] == [
        ("en", 1, 0),
        ("hr", 3, 4),
    ]


def test_feedback_for_a_contact_completed_outside_the_period_does_not_count(ledger: ServiceLedger) -> None:
    (before,) = ledger.report(Period(T - DAY, T), "all")
    assert (before.completed, before.csat_responses, before.csat_percent) == (1, 1, 0.0)


def test_reopen_window(ledger: ServiceLedger) -> None:
    (seven_days,) = ledger.report(PERIOD, "all")
    (nine_days,) = ledger.report(PERIOD, "all", reopen_window_s=9 * DAY)
    (half_an_hour,) = ledger.report(PERIOD, "all", reopen_window_s=1800)
    assert (seven_days.reopened, nine_days.reopened, half_an_hour.reopened) == (1, 2, 0)
    assert nine_days.reopen_rate_percent == 50.0


def test_an_empty_period_is_one_all_zero_row(ledger: ServiceLedger) -> None:
    assert ledger.report(Period(T + 10 * DAY, T + 11 * DAY), "all") == [row("all")]
    assert ledger.report(Period(T + 10 * DAY, T + 11 * DAY), "queue") == []


def test_an_unknown_grouping_is_refused(ledger: ServiceLedger) -> None:
    with pytest.raises(ValueError, match="group_by must be one of queue, agent, channel, language, all"):
        ledger.report(PERIOD, "customer")


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) == 0.0
    assert p90([7.0]) == 7.0
    assert p90([float(v) for v in range(1, 11)]) == 9.0  # ceil(9.0) = 9th of 10
    assert p90([float(v) for v in range(1, 12)]) == 10.0  # ceil(9.9) = 10th of 11
