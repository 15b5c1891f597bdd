"""The rating link's pages: in the ticket's or the browser's language, and never echoing markup."""

from __future__ import annotations

import pytest

from services.social_gateway.domain.feedback_pages import Page, page_language, render_page


@pytest.mark.parametrize(
    ("ticket_language", "accept_language", "expected"),
    [
        ("hr", "en-US,en;q=0.9", "hr"),
        ("sk-SK", "", "sk"),
        ("de", "sk;q=0.5, hr-HR;q=0.8, en;q=0.1", "hr"),
        ("", "fr-FR, sk;q=0.9", "sk"),
        ("", "fr, de;q=0.8", "en"),
        ("", "*;q=1, hr;q=bogus", "en"),
        ("", "", "en"),
    ],
)
def test_the_page_language(ticket_language: str, accept_language: str, expected: str) -> None:
    assert page_language(ticket_language, accept_language) == expected


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("en", "We recorded your rating: 4 of 5."), ("hr", "vašu ocjenu: 4 od 5."), ("sk", "hodnotenie: 4 z 5.")],
)
def test_the_thank_you_page_names_the_rating(language: str, phrase: str) -> None:
    page = render_page(Page.THANKS, language, rating=4, best=5)
    assert phrase in page and f'<html lang="{language}">' in page


@pytest.mark.parametrize("page", list(Page))
def test_every_page_exists_in_every_language(page: Page) -> None:
    pages = {language: render_page(page, language, rating=9, best=10) for language in ("en", "hr", "sk")}
    assert len(set(pages.values())) == 3
    assert all("{" not in text for text in pages.values())


def test_an_unknown_language_falls_back_to_english_and_is_escaped() -> None:
    page = render_page(Page.INVALID, '"><script>')
    assert "<script>" not in page and "This rating link is not valid." in page
