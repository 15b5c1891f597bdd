"""The survey ledger on SQLite and PostgreSQL, and two replicas sharing one database: a survey sent by one is
answered through the other, and a question is answered once however the replicas race."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from contactrouting.v1 import contact_pb2
from services.social_gateway.adapters.survey_store import SqlSurveyLedger
from services.social_gateway.domain.chat_surveys import OpenSurvey

TELEGRAM, CSAT = contact_pb2.CHANNEL_TELEGRAM, contact_pb2.SURVEY_SCALE_CSAT
LEASE_S = 60.0


def open_survey(survey_id: str, expires_in_s: float = 3600) -> OpenSurvey:
    return OpenSurvey(survey_id, f"ticket-of-{survey_id}", CSAT, time.time() + expires_in_s)


def test_a_survey_sent_by_one_replica_is_answered_through_another(open_engine: Callable[[], sa.Engine]) -> None:
    sender, receiver = SqlSurveyLedger(open_engine(), LEASE_S), SqlSurveyLedger(open_engine(), LEASE_S)
    sender.record_open(TELEGRAM, "customer-1", open_survey("s-1"))
    assert receiver.open_survey(TELEGRAM, "customer-1", time.time()) == sender.open_survey(
        TELEGRAM, "customer-1", time.time()
    )
    assert receiver.open_survey(TELEGRAM, "customer-2", time.time()) is None
    assert receiver.claim_answer("s-1", CSAT)
    assert not sender.claim_answer("s-1", CSAT)  # in flight on the receiver
    assert sender.open_survey(TELEGRAM, "customer-1", time.time()) is None
    sender.release_answer("s-1", CSAT)  # not its claim: nothing happens
    assert not sender.claim_answer("s-1", CSAT)
    receiver.confirm_answer("s-1", CSAT)
    assert not sender.claim_answer("s-1", CSAT)  # answered for good
    assert sender.open_survey(TELEGRAM, "customer-1", time.time()) is None


def test_a_released_answer_may_be_claimed_by_any_replica(open_engine: Callable[[], sa.Engine]) -> None:
    first, second = SqlSurveyLedger(open_engine(), LEASE_S), SqlSurveyLedger(open_engine(), LEASE_S)
    first.record_open(TELEGRAM, "customer-3", open_survey("s-3"))
    assert first.claim_answer("s-3", CSAT)
    first.release_answer("s-3", CSAT)  # Kafka did not acknowledge it
    assert second.open_survey(TELEGRAM, "customer-3", time.time()) is not None
    assert second.claim_answer("s-3", CSAT)


def test_a_newer_survey_replaces_the_open_one_and_closing_the_old_one_keeps_it(store_engine: sa.Engine) -> None:
    ledger = SqlSurveyLedger(store_engine, LEASE_S)
    ledger.record_open(TELEGRAM, "customer-4", open_survey("old"))
    ledger.record_open(TELEGRAM, "customer-4", open_survey("new"))
    ledger.close_survey(TELEGRAM, "customer-4", "old")
    survey = ledger.open_survey(TELEGRAM, "customer-4", time.time())
    assert survey is not None and survey.survey_id == "new"
    ledger.close_survey(TELEGRAM, "customer-4", "new")
    assert ledger.open_survey(TELEGRAM, "customer-4", time.time()) is None


def test_an_answer_claim_of_a_replica_that_died_lapses(open_engine: Callable[[], sa.Engine]) -> None:
    died = SqlSurveyLedger(open_engine(), LEASE_S)
    assert died.claim_answer("s-5", CSAT)
    survivor = SqlSurveyLedger(open_engine(), claim_lease_s=0)
    assert survivor.claim_answer("s-5", CSAT)
    survivor.confirm_answer("s-5", CSAT)
    assert not SqlSurveyLedger(open_engine(), claim_lease_s=0).claim_answer("s-5", CSAT)


def test_expired_surveys_and_old_answers_are_pruned(store_engine: sa.Engine) -> None:
    ledger = SqlSurveyLedger(store_engine, LEASE_S)
    ledger.record_open(TELEGRAM, "customer-6", open_survey("s-6", expires_in_s=-1))
    ledger.confirm_answer("s-7", CSAT)
    SqlSurveyLedger(store_engine, LEASE_S, answered_retention_s=-1)  # prunes when it starts
    with store_engine.connect() as connection:
        counts = [
            connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("social_open_surveys", "social_survey_answers")
        ]
    assert counts == [0, 0]


def test_racing_replicas_publish_each_answer_once(open_engine: Callable[[], sa.Engine]) -> None:
    replicas = [SqlSurveyLedger(open_engine(), LEASE_S) for _ in range(4)]
    questions = [f"s-race-{n}" for n in range(25)]

    def claim_all(replica: SqlSurveyLedger) -> list[str]:
        return [question for question in questions if replica.claim_answer(question, CSAT)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(claim_all, replicas * 2))
    assert sorted(question for result in results for question in result) == sorted(questions)
