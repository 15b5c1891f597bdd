"""Survey mails: one rating link per rating and scale, localized questions, escaping, and no mail without links."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from contactrouting.survey_scales import rating_link
from contactrouting.v1 import contact_pb2
from services.email_gateway.domain.outbound_mail import Reply, compose
from services.email_gateway.domain.survey_mail import SurveyNotRenderable, render_survey, survey_links

BASE = "https://feedback.example.com"
TICKET = "eyJzdXJ2ZXkiOiJ4In0.c2lnbmF0dXJl"
CSAT, NPS = contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS


def survey(*scales: contact_pb2.SurveyScale, ticket: str = TICKET) -> contact_pb2.Survey:
    return contact_pb2.Survey(survey_id="survey-1", scales=list(scales), ticket=ticket)


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs)["href"]

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links.append((data, self._href))
            self._href = None


def anchors(html: str) -> list[tuple[str, str]]:
    parser = Anchors()
    parser.feed(html)
    return parser.links


def test_a_rating_link_names_ticket_scale_and_rating() -> None:
    link = rating_link(f"{BASE}/", TICKET, NPS, 9)
    assert link == f"{BASE}/feedback/{TICKET}?scale=nps&rating=9"
    parts = urlsplit(link)
    assert parse_qs(parts.query) == {"scale": ["nps"], "rating": ["9"]}


def test_csat_gets_five_links_in_both_parts() -> None:
    mail = render_survey("Thank you for contacting us.", "en", survey(CSAT), BASE)
    expected = [(str(n), f"{BASE}/feedback/{TICKET}?scale=csat&rating={n}") for n in range(1, 6)]
    assert anchors(mail.html) == expected
    assert re.findall(r"^  (\d+): (\S+)$", mail.text, re.MULTILINE) == expected
    assert mail.text.startswith("Thank you for contacting us.\n\nHow satisfied are you with our help?")


def test_both_scales_are_asked_in_order_with_their_own_ranges() -> None:
    mail = render_survey("Hvala.", "hr", survey(CSAT, NPS), BASE)
    links = anchors(mail.html)
    assert [text for text, _ in links] == [*map(str, range(1, 6)), *map(str, range(0, 11))]
    assert {parse_qs(urlsplit(href).query)["scale"][0] for _, href in links[:5]} == {"csat"}
    assert {parse_qs(urlsplit(href).query)["scale"][0] for _, href in links[5:]} == {"nps"}
    assert "Koliko ste zadovoljni našom pomoći?" in mail.text
    assert "preporučili prijatelju ili kolegi" in mail.text
    assert mail.text.index("Koliko ste zadovoljni") < mail.text.index("preporučili")
    assert '<html lang="hr">' in mail.html


@pytest.mark.parametrize(
    ("language", "question"),
    [("sk", "Ako ste spokojní s našou pomocou?"), ("hr-HR", "Koliko ste zadovoljni"), ("de", "How satisfied")],
)
def test_questions_follow_the_contacts_language_with_english_as_fallback(language: str, question: str) -> None:
    assert question in render_survey("", language, survey(CSAT), BASE).text


def test_the_prompt_and_the_title_are_escaped_in_html_and_kept_verbatim_in_text() -> None:
    prompt = 'Dear <b>customer</b> & "friends",\nline two\n\n<script>alert(1)</script>'
    mail = render_survey(prompt, "en", survey(CSAT), BASE, title="<Re: order>")
    assert "<b>customer</b>" not in mail.html and "<script>" not in mail.html
    assert "Dear &lt;b&gt;customer&lt;/b&gt; &amp; &quot;friends&quot;,<br>line two" in mail.html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in mail.html
    assert "<title>&lt;Re: order&gt;</title>" in mail.html
    assert mail.text.startswith(prompt + "\n\n")


def test_a_base_url_with_markup_cannot_break_out_of_the_href() -> None:
    mail = render_survey("", "en", survey(CSAT), 'https://x.example/"><script>')
    assert "<script>" not in mail.html
    assert all(href.startswith('https://x.example/"><script>/feedback/') for _, href in anchors(mail.html))


@pytest.mark.parametrize(
    ("base_url", "message", "reason"),
    [
        ("", survey(CSAT), "FEEDBACK_BASE_URL is not set"),
        (BASE, survey(CSAT, ticket=""), "no ticket"),
        (BASE, survey(), "no known scale"),
        (BASE, survey(contact_pb2.SURVEY_SCALE_UNSPECIFIED), "no known scale"),
    ],
)
def test_a_survey_without_working_links_is_not_renderable(
    base_url: str, message: contact_pb2.Survey, reason: str
) -> None:
    with pytest.raises(SurveyNotRenderable, match=reason):
        render_survey("Prompt", "en", message, base_url)


def test_a_repeated_scale_is_asked_once() -> None:
    assert [s.scale for s in survey_links(BASE, TICKET, [CSAT, CSAT], "en")] == [CSAT]


def test_the_composed_survey_is_multipart_alternative_threaded_and_auto_generated() -> None:
    mail = render_survey("Thanks for your patience.", "en", survey(CSAT), BASE)
    reply = Reply(
        outbound_id="out-1",
        from_mailbox="support@example.com",
        to_address="ivana@example.net",
        to_name="",
        subject="How did we do?",
        body=mail.text,
        reference_tag="AB23CD",
        in_reply_to="<m1@example.net>",
        references=["<m0@example.net>"],
        auto_submitted="auto-generated",
        html_body=mail.html,
    )
    parsed = BytesParser(policy=policy.default).parsebytes(compose(reply).as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == "How did we do? [#AB23CD]"
    assert parsed["In-Reply-To"] == "<m1@example.net>"
    assert parsed["References"] == "<m0@example.net> <m1@example.net>"
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["Precedence"] is None
    # A survey's bounces come back to the mailbox (unlike an auto-reply's), so a dead address is noticed.
    assert reply.envelope_from == "support@example.com"
    html = parsed.get_body(("html",))
    assert html is not None
    assert anchors(html.get_content())[4] == ("5", f"{BASE}/feedback/{TICKET}?scale=csat&rating=5")
