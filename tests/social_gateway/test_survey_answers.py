"""What counts as a survey answer: a rating link's scale and rating, a chat reply's number and comment."""

from __future__ import annotations

import pytest

from contactrouting.v1 import contact_pb2, feedback_pb2
from services.social_gateway.domain.survey_answers import (
    AnswerRefused,
    ChatAnswer,
    Refusal,
    chat_answer,
    feedback_event,
    feedback_event_id,
    linked_rating,
)

CSAT, NPS = contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS


def ticket(*scales: contact_pb2.SurveyScale) -> feedback_pb2.SurveyTicket:
    message = feedback_pb2.SurveyTicket(
        survey_id="survey-1",
        contact_id="contact-1",
        conversation_id="conv-1",
        agent_id="agent-7",
        queue="billing",
        language="hr",
        channel=contact_pb2.CHANNEL_EMAIL,
        scales=list(scales),
        customer_id="email-abc",
    )
    message.expires_at.FromSeconds(1_900_000_000)
    message.completed_at.FromSeconds(1_800_000_000)
    return message


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("5", ChatAnswer(5, "")),
        (" 4 ", ChatAnswer(4, "")),
        ("5!", ChatAnswer(5, "")),
        ("5 thanks!", ChatAnswer(5, "thanks!")),
        ("4, mogli ste brže", ChatAnswer(4, "mogli ste brže")),
        ("3 - slow but fine", ChatAnswer(3, "slow but fine")),
        ("2\nThe agent was rude.", ChatAnswer(2, "The agent was rude.")),
        ("5/5 great", ChatAnswer(5, "great")),
        ("1.", ChatAnswer(1, "")),
        ("5 ⭐⭐⭐", ChatAnswer(5, "⭐⭐⭐")),
        ("5⭐", ChatAnswer(5, "⭐")),
    ],
)
def test_a_bare_csat_number_optionally_followed_by_a_comment_is_an_answer(text: str, answer: ChatAnswer) -> None:
    assert chat_answer(text, CSAT) == answer


@pytest.mark.parametrize(
    "text",
    [
        "",
        "thanks",
        "Hvala!",
        "0",  # below CSAT
        "6",  # above CSAT
        "10",
        "5th floor, the lift is broken",
        "4.5",
        "4,5",
        "3kg of parcels are missing",
        "10:30 tomorrow?",
        "1234",
        "+385 91 123 4567",
        "order 5",
        "\u0665",  # ARABIC-INDIC DIGIT FIVE: a digit, but not one our quick replies send
    ],
)
def test_anything_else_stays_a_contact(text: str) -> None:
    assert chat_answer(text, CSAT) is None


def test_nps_takes_zero_to_ten() -> None:
    assert chat_answer("0", NPS) == ChatAnswer(0, "")
    assert chat_answer("10 would recommend", NPS) == ChatAnswer(10, "would recommend")
    assert chat_answer("11", NPS) is None


def test_a_link_may_record_a_scale_of_its_ticket_within_range() -> None:
    assert linked_rating(ticket(CSAT, NPS), "nps", "0") == (NPS, 0)
    assert linked_rating(ticket(CSAT), "csat", "5") == (CSAT, 5)


@pytest.mark.parametrize(
    ("scale", "rating", "refusal"),
    [
        ("nps", "9", Refusal.BAD_SCALE),  # the ticket asks CSAT only
        ("", "3", Refusal.BAD_SCALE),
        ("CSAT", "3", Refusal.BAD_SCALE),
        ("csat", "0", Refusal.BAD_RATING),
        ("csat", "6", Refusal.BAD_RATING),
        ("csat", "", Refusal.BAD_RATING),
        ("csat", "-1", Refusal.BAD_RATING),
        ("csat", "3.0", Refusal.BAD_RATING),
        ("csat", "003", Refusal.BAD_RATING),
        ("csat", "٣", Refusal.BAD_RATING),
    ],
)
def test_a_link_outside_its_ticket_or_range_is_refused(scale: str, rating: str, refusal: Refusal) -> None:
    with pytest.raises(AnswerRefused) as refused:
        linked_rating(ticket(CSAT), scale, rating)
    assert refused.value.refusal is refusal
    assert refused.value.refusal.status == 400


def test_the_feedback_event_takes_every_attribution_from_the_ticket() -> None:
    event = feedback_event(
        ticket(CSAT, NPS), NPS, 9, "great", feedback_pb2.FEEDBACK_SOURCE_RATING_LINK, 1_800_000_100_500_000_000
    )
    expected = feedback_pb2.FeedbackEvent(
        event_id=feedback_event_id("survey-1", NPS),
        survey_id="survey-1",
        contact_id="contact-1",
        conversation_id="conv-1",
        scale=NPS,
        rating=9,
        comment="great",
        agent_id="agent-7",
        queue="billing",
        language="hr",
        channel=contact_pb2.CHANNEL_EMAIL,
        source=feedback_pb2.FEEDBACK_SOURCE_RATING_LINK,
    )
    expected.answered_at.FromNanoseconds(1_800_000_100_500_000_000)
    expected.completed_at.FromSeconds(1_800_000_000)
    assert event == expected


def test_one_question_of_one_survey_has_one_event_id_whatever_the_rating_or_source() -> None:
    first = feedback_event(ticket(CSAT), CSAT, 5, "", feedback_pb2.FEEDBACK_SOURCE_RATING_LINK, 1)
    retry = feedback_event(ticket(CSAT), CSAT, 4, "x", feedback_pb2.FEEDBACK_SOURCE_CHAT_REPLY, 2)
    assert first.event_id == retry.event_id
    assert feedback_event_id("survey-1", CSAT) != feedback_event_id("survey-1", NPS)
    assert feedback_event_id("survey-1", CSAT) != feedback_event_id("survey-2", CSAT)
