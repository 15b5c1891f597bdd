"""Survey answers: a rating link's scale and rating, a chat reply that is a rating, and the FeedbackEvent either gives.

Everything an answer is attributed to (contact, agent, queue, language, channel) comes from the signed ticket, never
from the request, so nobody can rate someone else's agent or move a rating to another queue.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import Enum

from contactrouting.survey_scales import SCALE_NAMES, ratings, scale_named
from contactrouting.v1 import contact_pb2, feedback_pb2

# Fixed namespace: an answer to one question of one survey has one event id, however often it is sent.
_NAMESPACE = uuid.UUID("a1d7e5c2-3f64-4b8e-9c0d-5e2f7b9a4c61")
MAX_COMMENT_CHARS = 2000
# "5", "5!", "4 thanks", "4, thanks" or "10/10 great": a number standing alone at the start, then any comment.
# "5th", "4.5", "10:30", "1234" or "3kg" are not answers: the number must end where a word would.
_ANSWER = re.compile(r"\s*([0-9]{1,2})(?:/(?:5|10))?(?![\w.,:]\w)(?:[\s,.;:!?)\-\u2013\u2014]+(.*)|(\W.*))?", re.DOTALL)


class Refusal(Enum):
    """Why a rating link's answer is refused: the metric's reason label and the HTTP status of the page."""

    INVALID_TICKET = ("invalid_ticket", 400)
    EXPIRED = ("expired", 410)
    BAD_SCALE = ("bad_scale", 400)
    BAD_RATING = ("bad_rating", 400)
    ALREADY_ANSWERED = ("already_answered", 409)

    @property
    def reason(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


class AnswerRefused(ValueError):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    rating: int
    comment: str


def linked_rating(
    ticket: feedback_pb2.SurveyTicket, scale_text: str, rating_text: str
) -> tuple[contact_pb2.SurveyScale, int]:
    """The scale and rating a link asks to record; raises AnswerRefused for a scale or rating it may not."""
    scale = scale_named(scale_text)
    if scale is None or scale not in ticket.scales:
        raise AnswerRefused(Refusal.BAD_SCALE)
    if not (rating_text.isascii() and rating_text.isdigit() and len(rating_text) <= 2):
        raise AnswerRefused(Refusal.BAD_RATING)
    rating = int(rating_text)
    if rating not in ratings(scale):
        raise AnswerRefused(Refusal.BAD_RATING)
    return scale, rating


def chat_answer(text: str, scale: contact_pb2.SurveyScale) -> ChatAnswer | None:
    """The rating (and comment) a chat message gives on `scale`, or None when it is not an answer."""
    found = _ANSWER.fullmatch(text)
    if found is None:
        return None
    rating = int(found.group(1))
    if rating not in ratings(scale):
        return None
    comment = found.group(2) or found.group(3) or ""
    return ChatAnswer(rating, comment.strip()[:MAX_COMMENT_CHARS])


def feedback_event_id(survey_id: str, scale: contact_pb2.SurveyScale) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"feedback:{survey_id}:{SCALE_NAMES.get(scale, str(scale))}"))


def feedback_event(
    ticket: feedback_pb2.SurveyTicket,
    scale: contact_pb2.SurveyScale,
    rating: int,
    comment: str,
    source: feedback_pb2.FeedbackSource,
    answered_at_ns: int,
) -> feedback_pb2.FeedbackEvent:
    event = feedback_pb2.FeedbackEvent(
        event_id=feedback_event_id(ticket.survey_id, scale),
        survey_id=ticket.survey_id,
        contact_id=ticket.contact_id,
        conversation_id=ticket.conversation_id,
        scale=scale,
        rating=rating,
        comment=comment,
        agent_id=ticket.agent_id,
        queue=ticket.queue,
        language=ticket.language,
        channel=ticket.channel,
        source=source,
    )
    event.answered_at.FromNanoseconds(answered_at_ns)
    if ticket.HasField("completed_at"):
        event.completed_at.CopyFrom(ticket.completed_at)
    return event
