"""Chat survey answers against the real ledger (SQLite and PostgreSQL): open after sending, answered once, expiring,
per customer."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from contactrouting.survey_tickets import issue_ticket
from contactrouting.v1 import contact_pb2, feedback_pb2
from services.social_gateway.adapters.survey_store import SqlSurveyLedger
from services.social_gateway.domain.chat_surveys import ChatSurveys
from services.social_gateway.domain.contact_events import customer_id
from services.social_gateway.domain.messages import InboundMessage, Platform

SECRET = "chat-survey-secret-for-tests"
NOW_S = time.time()
NOW_NS = int(NOW_S * 1e9)
CSAT, NPS = contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS
LEASE_S = 60.0


def survey_outbound(
    chat: str, *scales: contact_pb2.SurveyScale, expires_in_s: float = 3600
) -> contact_pb2.OutboundMessage:
    ticket = feedback_pb2.SurveyTicket(
        survey_id=f"survey-{chat}",
        contact_id=f"contact-{chat}",
        conversation_id=f"conv-{chat}",
        agent_id="agent-7",
        queue="general",
        language="sk",
        channel=contact_pb2.CHANNEL_TELEGRAM,
        scales=list(scales),
        customer_id=customer_id(Platform.TELEGRAM, chat),
    )
    ticket.expires_at.FromSeconds(int(NOW_S + expires_in_s))
    return contact_pb2.OutboundMessage(
        message_id=f"out-{chat}",
        contact_id=ticket.contact_id,
        channel=contact_pb2.CHANNEL_TELEGRAM,
        customer=contact_pb2.Customer(customer_id=ticket.customer_id, handle=chat),
        kind=contact_pb2.OUTBOUND_KIND_SURVEY,
        survey=contact_pb2.Survey(
            survey_id=ticket.survey_id,
            scales=list(scales),
            ticket=issue_ticket(ticket, SECRET),
            expires_at=ticket.expires_at,
        ),
    )


def message(chat: str, text: str, **fields: object) -> InboundMessage:
    return InboundMessage(
        platform=Platform.TELEGRAM,
        source_id="demo-bot",
        sender_id=chat,
        sender_name="",
        thread_id=chat,
        message_id=f"m-{text}",
        sent_at_s=NOW_S,
        text=text,
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def surveys(store_engine: sa.Engine) -> ChatSurveys:
    return ChatSurveys(SqlSurveyLedger(store_engine, LEASE_S), SECRET)


def test_a_number_after_a_survey_answers_its_first_scale_once(surveys: ChatSurveys) -> None:
    assert surveys.record_sent(survey_outbound("1", NPS, CSAT))
    answer = surveys.claim_answer(message("1", "9 super"), NOW_NS)
    assert answer is not None
    assert (answer.scale, answer.rating, answer.comment, answer.source) == (
        NPS,
        9,
        "super",
        feedback_pb2.FEEDBACK_SOURCE_CHAT_REPLY,
    )
    assert (answer.contact_id, answer.agent_id, answer.language) == ("contact-1", "agent-7", "sk")
    assert surveys.claim_answer(message("1", "8"), NOW_NS) is None  # in flight
    surveys.confirm(answer)
    assert surveys.claim_answer(message("1", "8"), NOW_NS) is None  # answered


def test_a_released_answer_may_be_given_again(surveys: ChatSurveys) -> None:
    surveys.record_sent(survey_outbound("2", CSAT))
    answer = surveys.claim_answer(message("2", "5"), NOW_NS)
    assert answer is not None
    surveys.release(answer)  # Kafka did not acknowledge it
    assert surveys.claim_answer(message("2", "5"), NOW_NS) is not None


def test_no_survey_no_answer_and_other_customers_are_not_affected(surveys: ChatSurveys) -> None:
    assert surveys.claim_answer(message("3", "5"), NOW_NS) is None
    surveys.record_sent(survey_outbound("3", CSAT))
    assert surveys.claim_answer(message("4", "5"), NOW_NS) is None


def test_edits_neither_answer_nor_close(surveys: ChatSurveys) -> None:
    surveys.record_sent(survey_outbound("5", CSAT))
    assert surveys.claim_answer(message("5", "4", is_edit=True), NOW_NS) is None
    assert surveys.claim_answer(message("5", "4"), NOW_NS) is not None


@pytest.mark.parametrize("text", ["Where is my parcel?", "7", ""])
def test_any_other_message_closes_the_survey_so_a_later_number_is_a_contact(surveys: ChatSurveys, text: str) -> None:
    surveys.record_sent(survey_outbound("12", CSAT))
    assert surveys.claim_answer(message("12", text), NOW_NS) is None
    assert surveys.claim_answer(message("12", "2 parcels are missing"), NOW_NS) is None


def test_closing_an_old_survey_leaves_a_newer_one_open(store_engine: sa.Engine) -> None:
    ledger = SqlSurveyLedger(store_engine, LEASE_S)
    surveys = ChatSurveys(ledger, SECRET)
    surveys.record_sent(survey_outbound("13", CSAT))
    newer = survey_outbound("13", CSAT)
    newer.survey.survey_id = "survey-13-newer"
    surveys.record_sent(newer)
    channel, customer = contact_pb2.CHANNEL_TELEGRAM, customer_id(Platform.TELEGRAM, "13")
    ledger.close_survey(channel, customer, "survey-13")
    open_survey = ledger.open_survey(channel, customer, NOW_S)
    assert open_survey is not None and open_survey.survey_id == "survey-13-newer"


def test_a_quick_reply_payload_answers_even_when_the_text_differs(surveys: ChatSurveys) -> None:
    surveys.record_sent(survey_outbound("6", CSAT))
    answer = surveys.claim_answer(message("6", "Excellent", reply_payload="5"), NOW_NS)
    assert answer is not None and answer.rating == 5


def test_an_expired_survey_is_no_longer_open(surveys: ChatSurveys) -> None:
    surveys.record_sent(survey_outbound("7", CSAT, expires_in_s=60))
    assert surveys.claim_answer(message("7", "5"), NOW_NS + 61 * 10**9) is None


def test_a_survey_the_ledger_holds_with_a_forged_ticket_answers_nothing(store_engine: sa.Engine) -> None:
    surveys = ChatSurveys(SqlSurveyLedger(store_engine, LEASE_S), "another-secret-of-enough-length")
    surveys.record_sent(survey_outbound("8", CSAT))
    assert surveys.claim_answer(message("8", "5"), NOW_NS) is None


def test_only_surveys_are_remembered(surveys: ChatSurveys) -> None:
    reply = survey_outbound("9", CSAT)
    reply.kind = contact_pb2.OUTBOUND_KIND_AGENT_REPLY
    assert not surveys.record_sent(reply)
    assert surveys.claim_answer(message("9", "5"), NOW_NS) is None


def test_answers_survive_a_restart(open_engine: Callable[[], sa.Engine]) -> None:
    first = ChatSurveys(SqlSurveyLedger(open_engine(), LEASE_S), SECRET)
    first.record_sent(survey_outbound("10", CSAT))
    answer = first.claim_answer(message("10", "5"), NOW_NS)
    assert answer is not None
    first.confirm(answer)
    again = ChatSurveys(SqlSurveyLedger(open_engine(), LEASE_S), SECRET)
    assert again.claim_answer(message("10", "4"), NOW_NS) is None
    again.record_sent(survey_outbound("11", CSAT))
    assert again.claim_answer(message("11", "4"), NOW_NS) is not None
