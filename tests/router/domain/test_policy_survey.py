"""The policy's survey settings: defaults, validation with the field named, and templates over the built-in texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.router.domain import PolicyError, load_policy, parse_policy
from services.router.domain.survey_texts import BUILT_IN_TEXTS

from .builders import policy_data


def with_survey(survey: dict[str, Any] | None = None, **top: Any) -> Any:
    queue: dict[str, Any] = {"name": "general"}
    if survey is not None:
        queue["survey"] = survey
    return parse_policy(policy_data(queues=[queue], **top), "test.yaml")


def test_surveys_are_off_unless_a_queue_turns_them_on() -> None:
    survey = with_survey().queue("general").survey
    assert not survey.enabled
    assert survey.scales == ("csat",)
    assert survey.channels == {"email", "messenger", "instagram", "whatsapp", "telegram", "x"}
    assert (survey.cap_days, survey.answer_window_h) == (30, 72)


def test_a_full_survey_block_is_read_as_written() -> None:
    block = {
        "enabled": True,
        "scales": ["nps", "csat"],
        "delay_s": 2,
        "channels": ["email", "telegram"],
        "cap_days": 7,
        "answer_window_h": 24,
    }
    survey = with_survey(block).queue("general").survey
    assert survey.enabled and survey.scales == ("nps", "csat") and survey.delay_s == 2
    assert survey.channels == {"email", "telegram"} and survey.cap_days == 7 and survey.answer_window_h == 24


@pytest.mark.parametrize(
    ("survey", "top", "message"),
    [
        ({"scales": ["stars"]}, {}, "queues.0.survey.scales.0"),
        ({"scales": []}, {}, "at least one of them"),
        ({"scales": ["csat", "csat"]}, {}, "at most once"),
        ({"channels": ["fax"]}, {}, "unknown channel(s) ['fax']"),
        ({"channels": []}, {}, "name at least one channel"),
        ({"delay_s": -1}, {}, "queues.0.survey.delay_s"),
        ({"cap_days": -1}, {}, "queues.0.survey.cap_days"),
        ({"answer_window_h": 0}, {}, "queues.0.survey.answer_window_h"),
        ({"enabled": True, "colour": "red"}, {}, "queues.0.survey.colour: Extra inputs are not permitted"),
        (None, {"survey_templates": {"de": {"subject": "Wie war es?"}}}, "needs csat_prompt, nps_prompt"),
        (None, {"survey_templates": {"DE": {"subject": "x", "csat_prompt": "y", "nps_prompt": "z"}}}, "lower-case"),
        (None, {"survey_templates": {"hr": {"subject": ""}}}, "survey_templates.hr.subject"),
    ],
)
def test_invalid_survey_settings_are_rejected_with_the_field_and_reason(
    survey: dict[str, Any] | None, top: dict[str, Any], message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        with_survey(survey, **top)
    assert message in str(caught.value)


def test_built_in_texts_cover_english_croatian_and_slovak() -> None:
    policy = with_survey()
    assert set(BUILT_IN_TEXTS) >= {"en", "hr", "sk"}
    for language in ("en", "hr", "sk"):
        text = policy.survey_text(language)
        assert text == BUILT_IN_TEXTS[language]
        assert "1" in text.csat_prompt and "5" in text.csat_prompt
        assert "0" in text.nps_prompt and "10" in text.nps_prompt
    assert policy.survey_text("pt") == BUILT_IN_TEXTS["en"]


def test_templates_add_languages_and_override_built_in_fields() -> None:
    templates = {
        "de": {
            "subject": "Wie waren wir?",
            "csat_prompt": "Wie zufrieden sind Sie? Antworten Sie mit einer Zahl von 1 bis 5.",
            "nps_prompt": "Würden Sie uns empfehlen? Antworten Sie mit einer Zahl von 0 bis 10.",
        },
        "hr": {"subject": "Vaše mišljenje"},
        "en": {"thanks": ""},
    }
    policy = with_survey(survey_templates=templates)
    german = policy.survey_text("de-AT")
    assert german.subject == "Wie waren wir?" and german.thanks == ""
    croatian = policy.survey_text("hr")
    assert croatian.subject == "Vaše mišljenje"
    assert croatian.csat_prompt == BUILT_IN_TEXTS["hr"].csat_prompt
    assert croatian.thanks == BUILT_IN_TEXTS["hr"].thanks
    assert policy.survey_text("fr").thanks == "", "the fallback language's override applies too"


def test_the_demo_policy_surveys_every_queue_soon_after_completion() -> None:
    policy = load_policy(Path(__file__).resolve().parents[3] / "config" / "routing_policy.yaml")
    for queue in policy.queues:
        assert queue.survey.enabled and queue.survey.delay_s == 2 and queue.survey.scales[0] == "csat", queue.name
    assert policy.survey_text("de").subject == "Wie waren wir?"
