"""The ledger's bookkeeping: facts in any order, duplicates, and the bound on what it keeps."""

from __future__ import annotations

from services.router.domain.service_ledger import ServiceLedger
from services.router.domain.service_report import Attribution, Period, Scale, SurveyAnswer

T = 1_800_000_000.0
WHO = Attribution("a1", "billing", "email", "hr")


def answer(contact_id: str, rating: int, survey_id: str = "", completed_at: float = 0.0) -> SurveyAnswer:
    return SurveyAnswer(survey_id or f"s-{contact_id}", contact_id, Scale.CSAT, rating, WHO, completed_at, T + 100)


def completed(ledger: ServiceLedger, contact_id: str, received: float, done: float) -> None:
    ledger.queued(contact_id, f"conv-{contact_id}", received, received)
    ledger.completed(contact_id, WHO, done)


def test_a_reply_recorded_after_the_completion_still_counts_and_the_earliest_reply_wins() -> None:
    ledger = ServiceLedger()
    ledger.queued("c1", "conv", T, T + 1)
    ledger.completed("c1", WHO, T + 300)
    ledger.replied("c1", T + 90)
    ledger.replied("c1", T + 30)  # another partition's record, read later
    (row,) = ledger.report(Period(), "all")
    assert (row.first_responses, row.first_response_avg_s, row.resolution_avg_s) == (1, 30.0, 300.0)


def test_a_redelivered_queued_keeps_the_first_and_a_contact_without_queued_is_left_out() -> None:
    ledger = ServiceLedger()
    ledger.queued("c1", "conv", T, T)
    ledger.queued("c1", "conv", T + 50, T + 50)
    ledger.completed("c1", WHO, T + 100)
    ledger.completed("c2", WHO, T + 100)  # its QUEUED aged out of routing.events
    (row,) = ledger.report(Period(), "all")
    assert (row.completed, row.resolution_avg_s) == (1, 100.0)


def test_an_answer_given_twice_counts_once_the_first_one() -> None:
    ledger = ServiceLedger()
    completed(ledger, "c1", T, T + 10)
    assert ledger.answered(answer("c1", 5)) is True
    assert ledger.answered(answer("c1", 1)) is False
    (row,) = ledger.report(Period(), "all")
    assert (row.csat_responses, row.csat_percent) == (1, 100.0)


def test_at_most_max_contacts_trails_and_answers_are_kept_the_oldest_go_first() -> None:
    ledger = ServiceLedger(max_contacts=2)
    for n in range(3):
        completed(ledger, f"c{n}", T + n, T + n + 10)
        ledger.answered(answer(f"c{n}", 5))
    assert (len(ledger), ledger.answers) == (2, 2)
    (row,) = ledger.report(Period(), "all")
    assert (row.completed, row.csat_responses, row.resolution_avg_s) == (2, 2, 10.0)


def test_prune_forgets_what_started_before_the_window() -> None:
    ledger = ServiceLedger(window_s=1000)
    completed(ledger, "old", T, T + 10)
    ledger.answered(answer("old", 5, completed_at=T + 10))
    completed(ledger, "new", T + 600, T + 700)
    ledger.answered(answer("new", 1, completed_at=T + 700))
    ledger.prune(T + 1500)
    assert (len(ledger), ledger.answers) == (1, 1)
    (row,) = ledger.report(Period(), "all")
    assert (row.completed, row.csat_percent) == (1, 0.0)


def test_without_a_window_prune_keeps_everything() -> None:
    ledger = ServiceLedger()
    completed(ledger, "c1", T, T + 10)
    ledger.prune(T + 10**9)
    assert len(ledger) == 1


def test_forgetting_a_contact_keeps_the_reopens_of_the_rest_of_its_conversation() -> None:
    ledger = ServiceLedger(max_contacts=2)
    for contact_id, queued, done in (("c1", T, T + 10), ("c2", T + 100, T + 200)):
        ledger.queued(contact_id, "conv", queued, queued)
        ledger.completed(contact_id, WHO, done)
    ledger.queued("c3", "conv", T + 300, T + 300)  # c1 goes: at most two contacts are kept
    (row,) = ledger.report(Period(), "all")
    assert (len(ledger), row.completed, row.reopened) == (2, 1, 1)  # c2, reopened by c3
