"""Satisfaction surveys after completion: whether one is due, when it goes out, and what it says.

Pure: the adapter reports completed contacts and asks for what is due at `now`. A customer is surveyed at most
once per `cap_days` over all queues; a survey counts against the cap from the moment it is planned (so two
contacts completed within the delay get one survey), and is released again if it is dropped before sending.
"""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from services.router.domain.policy import RoutingPolicy
from services.router.domain.survey_texts import email_prompt, quick_replies, survey_prompt

DAY_S = 86_400.0
# A survey this late is dropped: the customer has moved on, and a router back from a long outage must not
# flood customers with surveys about old contacts.
LATE_LIMIT_S = 3_600.0
# Cap entries older than the longest cap are forgotten about this often.
PRUNE_EVERY_S = 3_600.0
# Survey ids follow the contact, so a survey sent again after a crash is recognized as the same survey.
_SURVEY_NAMESPACE = uuid.UUID("6f1d7c2e-9a4b-5e0f-8c3d-2b7a1e4f9d60")


class SurveySkipped(StrEnum):
    DISABLED = "disabled"
    CHANNEL_NOT_SURVEYED = "channel_not_surveyed"
    NO_CUSTOMER = "no_customer"
    SURVEYED_RECENTLY = "surveyed_recently"
    ALREADY_PLANNED = "already_planned"
    TOO_LATE = "too_late"


@dataclass(frozen=True, slots=True)
class CompletedContact:
    contact_id: str
    customer_id: str
    channel: str
    language: str
    queue: str
    agent_id: str
    completed_at: float


@dataclass(frozen=True, slots=True)
class PlannedSurvey:
    contact: CompletedContact
    due_at: float
    # The customer's previous survey time, restored if this one is dropped before it is sent.
    previous_survey_at: float | None


@dataclass(frozen=True, slots=True)
class SurveyContent:
    """One survey ready to send on the contact's channel."""

    survey_id: str
    contact: CompletedContact
    scales: tuple[str, ...]
    subject: str
    # Chat channels: the complete prompt of the first scale. Email: intro and thanks; the gateway adds every
    # scale's question beside its rating links.
    body_text: str
    quick_replies: tuple[str, ...]
    sent_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class DueSurveys:
    send: list[SurveyContent] = field(default_factory=list)
    dropped: list[tuple[PlannedSurvey, SurveySkipped]] = field(default_factory=list)


def survey_id_for(contact_id: str) -> str:
    return uuid.uuid5(_SURVEY_NAMESPACE, contact_id).hex


def asked_scales(channel: str, scales: tuple[str, ...]) -> tuple[str, ...]:
    """A mail can carry a link per rating of every scale; a chat answer is one bare number, so one question."""
    return scales if channel == "email" else scales[:1]


class SurveyPlanner:
    def __init__(self, policy: RoutingPolicy) -> None:
        self._policy = policy
        self._last_survey_at: dict[str, float] = {}  # by customer id: sent, or planned to be sent
        self._planned: dict[str, PlannedSurvey] = {}  # by contact id
        self._heap: list[tuple[float, str]] = []
        self._next_prune = 0.0

    def __len__(self) -> int:
        """Surveys planned and not yet sent or dropped."""
        return len(self._planned)

    def replace_policy(self, policy: RoutingPolicy) -> None:
        """Planned surveys keep their time; whether they still go out is decided by the policy at sending."""
        self._policy = policy

    def survey_sent(self, customer_id: str, at: float) -> None:
        """Recovery: a survey the log shows sent counts against the customer's cap."""
        if customer_id and at > self._last_survey_at.get(customer_id, float("-inf")):
            self._last_survey_at[customer_id] = at

    def plan(self, contact: CompletedContact, now: float) -> PlannedSurvey | SurveySkipped:
        """Plan the survey a completed contact is due, `delay_s` after completion, or say why there is none."""
        if contact.contact_id in self._planned:
            return SurveySkipped.ALREADY_PLANNED
        skipped = self._refusal(contact)
        if skipped is not None:
            return skipped
        survey = self._policy.queue(contact.queue).survey
        due_at = contact.completed_at + survey.delay_s
        if now > due_at + LATE_LIMIT_S:
            return SurveySkipped.TOO_LATE
        previous = self._last_survey_at.get(contact.customer_id)
        if previous is not None and survey.cap_days and contact.completed_at < previous + survey.cap_days * DAY_S:
            return SurveySkipped.SURVEYED_RECENTLY
        planned = PlannedSurvey(contact, due_at, previous)
        self._planned[contact.contact_id] = planned
        self._last_survey_at[contact.customer_id] = due_at
        heapq.heappush(self._heap, (due_at, contact.contact_id))
        return planned

    def due(self, now: float) -> DueSurveys:
        """The surveys to send now (under the policy in force now), and those dropped instead."""
        result = DueSurveys()
        while self._heap and self._heap[0][0] <= now:
            _, contact_id = heapq.heappop(self._heap)
            planned = self._planned.pop(contact_id)
            skipped = self._refusal(planned.contact)
            if skipped is None and now > planned.due_at + LATE_LIMIT_S:
                skipped = SurveySkipped.TOO_LATE
            if skipped is None:
                result.send.append(self._content(planned.contact, now))
            else:
                self._release(planned)
                result.dropped.append((planned, skipped))
        if now >= self._next_prune:
            self._prune(now)
        return result

    def _refusal(self, contact: CompletedContact) -> SurveySkipped | None:
        queue = next((q for q in self._policy.queues if q.name == contact.queue), None)
        if queue is None or not queue.survey.enabled:
            return SurveySkipped.DISABLED
        if contact.channel not in queue.survey.channels:
            return SurveySkipped.CHANNEL_NOT_SURVEYED
        if not contact.customer_id:
            return SurveySkipped.NO_CUSTOMER
        return None

    def _content(self, contact: CompletedContact, now: float) -> SurveyContent:
        survey = self._policy.queue(contact.queue).survey
        text = self._policy.survey_text(contact.language)
        return SurveyContent(
            survey_id=survey_id_for(contact.contact_id),
            contact=contact,
            scales=survey.scales,
            subject=text.subject,
            body_text=(
                email_prompt(text)
                if contact.channel == "email"
                else survey_prompt(text, asked_scales(contact.channel, survey.scales))
            ),
            quick_replies=tuple(quick_replies(survey.scales[0])),
            sent_at=now,
            expires_at=now + survey.answer_window_h * 3600,
        )

    def _release(self, planned: PlannedSurvey) -> None:
        customer_id = planned.contact.customer_id
        if self._last_survey_at.get(customer_id) != planned.due_at:
            return  # a later survey holds the cap now
        if planned.previous_survey_at is None:
            del self._last_survey_at[customer_id]
        else:
            self._last_survey_at[customer_id] = planned.previous_survey_at

    def _prune(self, now: float) -> None:
        longest_cap_s = max((queue.survey.cap_days for queue in self._policy.queues), default=0.0) * DAY_S
        horizon = now - longest_cap_s
        for customer_id in [c for c, at in self._last_survey_at.items() if at < horizon]:
            del self._last_survey_at[customer_id]
        self._next_prune = now + PRUNE_EVERY_S
