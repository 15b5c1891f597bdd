"""Surveys asked on a chat channel: which customer has one open, and whether their next message answers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from contactrouting.survey_tickets import InvalidSurveyTicket, verify_ticket
from contactrouting.v1 import contact_pb2, feedback_pb2
from services.social_gateway.domain.contact_events import CHANNELS, customer_id
from services.social_gateway.domain.messages import InboundMessage
from services.social_gateway.domain.survey_answers import chat_answer, feedback_event


@dataclass(frozen=True, slots=True)
class OpenSurvey:
    """The question a customer was asked last on a channel; chat channels ask the survey's first scale."""

    survey_id: str
    ticket: str
    scale: contact_pb2.SurveyScale
    expires_at_s: float


class SurveyLedger(Protocol):
    def record_open(self, channel: int, customer: str, survey: OpenSurvey) -> None:
        """The survey was sent to this customer on this channel; it replaces any earlier one."""

    def open_survey(self, channel: int, customer: str, now_s: float) -> OpenSurvey | None:
        """The customer's survey on this channel if it is unexpired and its question not answered (or in flight)."""

    def close_survey(self, channel: int, customer: str, survey_id: str) -> None:
        """The customer wrote something else: this survey no longer takes chat answers."""

    def claim_answer(self, survey_id: str, scale: int) -> bool:
        """Mark the question's answer in flight; False when it is answered or in flight already."""

    def confirm_answer(self, survey_id: str, scale: int) -> None:
        """The answer is acknowledged by Kafka: the question stays answered for good."""

    def release_answer(self, survey_id: str, scale: int) -> None:
        """Publishing the answer failed: a retry may claim it again."""


def open_survey_of(outbound: contact_pb2.OutboundMessage) -> OpenSurvey | None:
    """What to remember after a survey went out on a chat channel; None for anything else."""
    survey = outbound.survey
    if outbound.kind != contact_pb2.OUTBOUND_KIND_SURVEY or not survey.survey_id or not survey.scales:
        return None
    return OpenSurvey(survey.survey_id, survey.ticket, survey.scales[0], float(survey.expires_at.seconds))


class ChatSurveys:
    """Turns a customer's chat message into a survey answer when it is one; the ledger remembers open surveys."""

    def __init__(self, ledger: SurveyLedger, secret: str) -> None:
        self._ledger = ledger
        self._secret = secret

    def record_sent(self, outbound: contact_pb2.OutboundMessage) -> bool:
        """Remember a survey the platform accepted; True when it was one."""
        survey = open_survey_of(outbound)
        if survey is None:
            return False
        self._ledger.record_open(outbound.channel, outbound.customer.customer_id, survey)
        return True

    def claim_answer(self, message: InboundMessage, now_ns: int) -> feedback_pb2.FeedbackEvent | None:
        """The FeedbackEvent this message gives, its answer claimed in the ledger; None when it is a contact.

        Only the customer's next message can answer: once they write anything else, the survey is closed, so
        "2 parcels are missing" days later is a contact, not a rating. Edits never answer (nor close).
        """
        if message.is_edit:
            return None
        now_s = now_ns / 1e9
        channel = CHANNELS[message.platform]
        customer = customer_id(message.platform, message.sender_id)
        survey = self._ledger.open_survey(channel, customer, now_s)
        if survey is None:
            return None
        answer = next(
            (found for text in (message.reply_payload, message.text) if (found := chat_answer(text, survey.scale))),
            None,
        )
        ticket = self._verified(survey.ticket, now_s) if answer is not None else None
        if answer is None or ticket is None:
            self._ledger.close_survey(channel, customer, survey.survey_id)
            return None
        if not self._ledger.claim_answer(survey.survey_id, survey.scale):
            return None
        return feedback_event(
            ticket, survey.scale, answer.rating, answer.comment, feedback_pb2.FEEDBACK_SOURCE_CHAT_REPLY, now_ns
        )

    def _verified(self, token: str, now_s: float) -> feedback_pb2.SurveyTicket | None:
        try:
            return verify_ticket(token, self._secret, now_s)
        except InvalidSurveyTicket:  # expired since, or signed with a secret we no longer hold
            return None

    def confirm(self, event: feedback_pb2.FeedbackEvent) -> None:
        self._ledger.confirm_answer(event.survey_id, event.scale)

    def release(self, event: feedback_pb2.FeedbackEvent) -> None:
        self._ledger.release_answer(event.survey_id, event.scale)
