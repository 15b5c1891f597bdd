"""RFC 3834: which mail may get an automatic acknowledgement, and the localized text it gets."""

from __future__ import annotations

import pytest

from services.email_gateway.domain.acknowledgement import acknowledgement_text, is_automatic
from services.email_gateway.domain.parsing import parse_mail

from .corpus_files import corpus_mail

OWN = frozenset({"support@example.com", "billing@example.com"})


def _mail(*headers: str, sender: str = "customer@example.net") -> bytes:
    lines = [f"From: {sender}", "To: support@example.com", "Subject: help", *headers]
    return ("\r\n".join(lines) + "\r\n\r\nPlease help.\r\n").encode()


def test_a_person_writing_in_gets_an_acknowledgement() -> None:
    assert not is_automatic(parse_mail(_mail()), "customer@example.net", OWN)
    assert not is_automatic(parse_mail(_mail("Auto-Submitted: no")), "customer@example.net", OWN)
    assert not is_automatic(parse_mail(_mail()), None, OWN)  # IMAP: no envelope sender


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Precedence: bulk",
        "Precedence: list",
        "Precedence: junk",
        "List-Id: <news.example.net>",
        "List-Unsubscribe: <mailto:leave@example.net>",
        "X-Autoreply: yes",
        "X-Auto-Response-Suppress: OOF, AutoReply",
        "X-Auto-Response-Suppress: All",
        "Return-Path: <>",
    ],
)
def test_robots_and_lists_never_get_one(header: str) -> None:
    assert is_automatic(parse_mail(_mail(header)), "customer@example.net", OWN)


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.net", "postmaster@example.net", "no-reply@shop.example", "support@example.com"]
)
def test_mailer_daemons_no_reply_senders_and_our_own_mailboxes_never_get_one(sender: str) -> None:
    assert is_automatic(parse_mail(_mail(sender=sender)), sender, OWN)


def test_a_null_envelope_sender_is_a_bounce() -> None:
    assert is_automatic(parse_mail(_mail()), "", OWN)


@pytest.mark.parametrize("name", ["auto_reply.eml", "bounce.eml"])
def test_the_corpus_auto_reply_and_bounce_are_automatic(name: str) -> None:
    assert is_automatic(parse_mail(corpus_mail(name)), "someone@example.net", OWN)


def test_texts_are_localized_and_carry_tag_and_promised_time() -> None:
    english = acknowledgement_text("en", "AB12CD", "24 h", "Order missing")
    assert english.subject == "We received your message: Order missing [#AB12CD]"
    assert "within 24 h" in english.body and "#AB12CD" in english.body
    croatian = acknowledgement_text("hr", "AB12CD", "4 h", "Račun")
    assert croatian.subject == "Zaprimili smo vašu poruku: Račun [#AB12CD]"
    assert "u roku od 4 h" in croatian.body and "#AB12CD" in croatian.body
    slovak = acknowledgement_text("sk", "AB12CD", "48 h", "")
    assert slovak.subject == "Vašu správu sme prijali [#AB12CD]"
    assert "do 48 h" in slovak.body


def test_a_language_without_a_template_gets_english() -> None:
    assert acknowledgement_text("ja", "AB12CD", "24 h", "x") == acknowledgement_text("en", "AB12CD", "24 h", "x")
