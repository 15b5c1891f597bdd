"""The survey planner: who is surveyed when, the once-per-cap rule, and what the survey says."""

from __future__ import annotations

from typing import Any

import pytest

from services.router.domain import parse_policy
from services.router.domain.surveys import (
    DAY_S,
    LATE_LIMIT_S,
    CompletedContact,
    PlannedSurvey,
    SurveyPlanner,
    SurveySkipped,
    survey_id_for,
)

from .builders import T0, policy_data


def survey_policy(**survey: Any) -> Any:
    settings = {"enabled": True, "scales": ["csat"], "delay_s": 60, "cap_days": 30, "answer_window_h": 72}
    settings.update(survey)
    queues = [
        {"name": "general", "survey": settings},
        {"name": "billing"},  # no survey block: surveys off
    ]
    return parse_policy(policy_data(queues=queues))


def completed(
    contact_id: str = "c1",
    *,
    customer: str = "cust-1",
    channel: str = "email",
    language: str = "en",
    queue: str = "general",
    at: float = T0,
) -> CompletedContact:
    return CompletedContact(contact_id, customer, channel, language, queue, "agent-1", at)


@pytest.fixture
def planner() -> SurveyPlanner:
    return SurveyPlanner(survey_policy())


def test_a_completed_contact_gets_its_survey_delay_s_later(planner: SurveyPlanner) -> None:
    planned = planner.plan(completed(), T0)
    assert isinstance(planned, PlannedSurvey) and planned.due_at == T0 + 60
    assert planner.due(T0 + 59.9).send == []
    due = planner.due(T0 + 60)
    assert [s.contact.contact_id for s in due.send] == ["c1"]
    assert planner.due(T0 + 120).send == [], "sent once"
    assert len(planner) == 0


def test_the_survey_says_what_it_asks_in_full(planner: SurveyPlanner) -> None:
    planner.plan(completed(channel="telegram"), T0)
    [survey] = planner.due(T0 + 60).send
    assert survey.survey_id == survey_id_for("c1")
    assert survey.scales == ("csat",)
    assert survey.subject == "How did we do?"
    assert survey.body_text == (
        "How satisfied are you with the help you received? "
        "Reply with a number from 1 (very dissatisfied) to 5 (very satisfied).\n\n"
        "Thank you for helping us improve."
    )
    assert survey.quick_replies == ("1", "2", "3", "4", "5")
    assert survey.sent_at == T0 + 60
    assert survey.expires_at == T0 + 60 + 72 * 3600


def test_email_leaves_the_questions_to_its_rating_links_and_chat_asks_only_the_first() -> None:
    planner = SurveyPlanner(survey_policy(scales=["nps", "csat"], channels=["email", "telegram"]))
    planner.plan(completed("mail", customer="a"), T0)
    planner.plan(completed("chat", customer="b", channel="telegram"), T0)
    sent = {s.contact.contact_id: s for s in planner.due(T0 + 60).send}
    mail, chat = sent["mail"], sent["chat"]
    assert mail.scales == chat.scales == ("nps", "csat")
    # The email gateway asks every scale beside its links: no "reply with a number" that would become a contact.
    assert (
        mail.body_text
        == "Your request has been resolved. Please tell us how we did.\n\nThank you for helping us improve."
    )
    assert chat.body_text.startswith("How likely are you to recommend us")
    assert "satisfied" not in chat.body_text
    assert mail.quick_replies == chat.quick_replies == tuple(str(n) for n in range(11))


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("hr", "Kako smo vam pomogli?", "Odgovorite brojem od 1 (vrlo nezadovoljni) do 5 (vrlo zadovoljni)."),
        ("sk", "Ako sme vám pomohli?", "Odpovedzte číslom od 1 (veľmi nespokojní) do 5 (veľmi spokojní)."),
        ("hr-HR", "Kako smo vam pomogli?", "Koliko ste zadovoljni pomoći koju ste dobili?"),
        ("de", "How did we do?", "Reply with a number from 1"),
        ("und", "How did we do?", "Reply with a number from 1"),
    ],
)
def test_the_survey_speaks_the_contacts_language_or_english(language: str, subject: str, phrase: str) -> None:
    planner = SurveyPlanner(survey_policy())
    planner.plan(completed(language=language, channel="telegram"), T0)
    [survey] = planner.due(T0 + 60).send
    assert survey.subject == subject
    assert phrase in survey.body_text


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        (completed(queue="billing"), SurveySkipped.DISABLED),
        (completed(queue="removed-queue"), SurveySkipped.DISABLED),
        (completed(channel="x"), SurveySkipped.CHANNEL_NOT_SURVEYED),
        (completed(customer=""), SurveySkipped.NO_CUSTOMER),
    ],
)
def test_no_survey_where_the_policy_or_the_contact_does_not_allow_one(
    contact: CompletedContact, reason: SurveySkipped
) -> None:
    planner = SurveyPlanner(survey_policy(channels=["email", "telegram"]))
    assert planner.plan(contact, T0) is reason
    assert planner.due(T0 + DAY_S).send == []


def test_one_survey_per_customer_within_cap_days(planner: SurveyPlanner) -> None:
    assert isinstance(planner.plan(completed("c1"), T0), PlannedSurvey)
    # Completed before the first survey even went out: the planned one already counts.
    assert planner.plan(completed("c2", at=T0 + 10), T0 + 10) is SurveySkipped.SURVEYED_RECENTLY
    assert len(planner.due(T0 + 60).send) == 1
    cap_end = T0 + 60 + 30 * DAY_S  # counted from when the first survey was sent
    assert planner.plan(completed("c3", at=cap_end - 1), cap_end - 1) is SurveySkipped.SURVEYED_RECENTLY
    assert isinstance(planner.plan(completed("c4", at=cap_end), cap_end), PlannedSurvey)
    # Another customer is not affected by the first one's cap.
    assert isinstance(planner.plan(completed("c5", customer="cust-2", at=T0 + 10), T0 + 10), PlannedSurvey)


def test_cap_days_zero_surveys_every_completion() -> None:
    planner = SurveyPlanner(survey_policy(cap_days=0))
    planner.plan(completed("c1"), T0)
    planner.plan(completed("c2", at=T0 + 1), T0 + 1)
    assert [s.contact.contact_id for s in planner.due(T0 + 61).send] == ["c1", "c2"]


def test_the_cap_spans_queues_with_each_queues_own_cap_days() -> None:
    queues = [
        {"name": "general", "survey": {"enabled": True, "cap_days": 30, "delay_s": 0}},
        {"name": "billing", "survey": {"enabled": True, "cap_days": 1, "delay_s": 0}},
    ]
    planner = SurveyPlanner(parse_policy(policy_data(queues=queues)))
    planner.plan(completed("c1", queue="general"), T0)
    planner.due(T0)
    assert planner.plan(completed("c2", queue="general", at=T0 + 2 * DAY_S), T0 + 2 * DAY_S) is (
        SurveySkipped.SURVEYED_RECENTLY
    )
    assert isinstance(planner.plan(completed("c3", queue="billing", at=T0 + 2 * DAY_S), T0 + 2 * DAY_S), PlannedSurvey)


def test_a_contact_is_planned_once(planner: SurveyPlanner) -> None:
    planner.plan(completed("c1"), T0)
    assert planner.plan(completed("c1"), T0) is SurveySkipped.ALREADY_PLANNED


def test_surveys_turned_off_by_a_reload_are_dropped_and_release_the_cap(planner: SurveyPlanner) -> None:
    planner.plan(completed("c1"), T0)
    planner.replace_policy(survey_policy(enabled=False))
    due = planner.due(T0 + 60)
    assert due.send == []
    assert [(p.contact.contact_id, reason) for p, reason in due.dropped] == [("c1", SurveySkipped.DISABLED)]
    planner.replace_policy(survey_policy())
    assert isinstance(planner.plan(completed("c2", at=T0 + 61), T0 + 61), PlannedSurvey), "cap released"


def test_a_dropped_survey_gives_back_the_customers_earlier_cap() -> None:
    planner = SurveyPlanner(survey_policy(cap_days=10))
    planner.survey_sent("cust-1", T0 - 20 * DAY_S)
    assert isinstance(planner.plan(completed("c1"), T0), PlannedSurvey)
    planner.replace_policy(survey_policy(cap_days=30, channels=["telegram"]))
    assert planner.due(T0 + 60).dropped[0][1] is SurveySkipped.CHANNEL_NOT_SURVEYED
    # The survey of 20 days ago is what counts again, and a 30-day cap now covers it.
    planner.replace_policy(survey_policy(cap_days=30))
    assert planner.plan(completed("c2", at=T0 + 61), T0 + 61) is SurveySkipped.SURVEYED_RECENTLY


def test_surveys_sent_before_a_restart_count_against_the_cap(planner: SurveyPlanner) -> None:
    planner.survey_sent("cust-1", T0 - 29 * DAY_S)
    assert planner.plan(completed("c1"), T0) is SurveySkipped.SURVEYED_RECENTLY
    planner.survey_sent("cust-2", T0 - 31 * DAY_S)
    assert isinstance(planner.plan(completed("c2", customer="cust-2"), T0), PlannedSurvey)


def test_a_survey_overdue_after_a_restart_goes_out_at_once_unless_far_too_late(planner: SurveyPlanner) -> None:
    overdue = planner.plan(completed("c1", at=T0 - 600), T0)
    assert isinstance(overdue, PlannedSurvey)
    assert [s.contact.contact_id for s in planner.due(T0).send] == ["c1"]
    stale = completed("c2", customer="cust-2", at=T0 - 60 - LATE_LIMIT_S - 1)
    assert planner.plan(stale, T0) is SurveySkipped.TOO_LATE


def test_a_survey_the_clock_reaches_far_too_late_is_dropped(planner: SurveyPlanner) -> None:
    planner.plan(completed("c1"), T0)
    due = planner.due(T0 + 60 + LATE_LIMIT_S + 1)
    assert due.send == [] and due.dropped[0][1] is SurveySkipped.TOO_LATE


def test_cap_entries_older_than_the_longest_cap_are_forgotten(planner: SurveyPlanner) -> None:
    planner.plan(completed("c1"), T0)
    planner.due(T0 + 60)
    later = T0 + 60 + 30 * DAY_S + 1
    planner.due(later)  # prunes
    assert isinstance(planner.plan(completed("c2", at=later), later), PlannedSurvey)
    assert planner._last_survey_at == {"cust-1": later + 60}


def test_the_survey_id_follows_the_contact() -> None:
    assert survey_id_for("c1") == survey_id_for("c1") != survey_id_for("c2")
    assert len(survey_id_for("c1")) == 32
