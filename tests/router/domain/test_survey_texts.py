"""Survey prompts: one question per scale, numbered only when there are several, and the quick replies."""

from __future__ import annotations

from services.router.domain.survey_texts import (
    BUILT_IN_TEXTS,
    SurveyText,
    email_prompt,
    language_key,
    quick_replies,
    survey_prompt,
)

TEXT = SurveyText(subject="S", csat_prompt="Rate us 1-5.", nps_prompt="Recommend us 0-10?", thanks="Thanks.")


def test_one_question_is_not_numbered() -> None:
    assert survey_prompt(TEXT, ["csat"]) == "Rate us 1-5.\n\nThanks."


def test_several_questions_are_numbered_in_the_order_asked() -> None:
    assert survey_prompt(TEXT, ["nps", "csat"]) == "1. Recommend us 0-10?\n\n2. Rate us 1-5.\n\nThanks."


def test_no_closing_line_without_thanks() -> None:
    assert survey_prompt(SurveyText("S", "Rate us 1-5.", "N"), ["csat"]) == "Rate us 1-5."


def test_quick_replies_are_the_scales_ratings_lowest_first() -> None:
    assert quick_replies("csat") == ["1", "2", "3", "4", "5"]
    assert quick_replies("nps") == [str(n) for n in range(0, 11)]


def test_language_key_is_the_primary_subtag() -> None:
    assert [language_key(tag) for tag in ("hr-HR", "sk_SK", " EN ", "de")] == ["hr", "sk", "en", "de"]


def test_every_built_in_language_has_an_email_intro_and_an_email_prompt_never_asks_for_a_reply() -> None:
    for text in BUILT_IN_TEXTS.values():
        assert text.email_intro
        assert email_prompt(text) == f"{text.email_intro}\n\n{text.thanks}"
    assert email_prompt(SurveyText("S", "C", "N")) == ""
