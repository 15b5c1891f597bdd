"""Parsing the corpus: charsets, encoded words, HTML-only mail, attachments, and what cannot be parsed."""

from __future__ import annotations

import base64
import hashlib

import pytest

from services.email_gateway.domain.html_text import html_to_text
from services.email_gateway.domain.parsing import AttachmentInfo, UnparseableMail, parse_mail

from .corpus_files import INVOICE_PDF, SCREENSHOT_PNG, corpus_mail


def test_multipart_alternative_prefers_the_plain_text_part() -> None:
    mail = parse_mail(corpus_mail("multipart_alternative.eml"))
    assert (
        mail.text
        == "Poštovani,\n\nnarudžba mi još nije stigla, a platio sam prije dva tjedna.\n\nLijep pozdrav,\nMarko"
    )
    assert mail.from_address == "marko.horvat@example.net" and mail.from_name == "Marko Horvat"
    assert mail.message_id == "<alt-1@mail.example.net>"
    assert mail.attachments == ()


def test_html_only_mail_becomes_readable_text_without_scripts_or_styles() -> None:
    mail = parse_mail(corpus_mail("html_only.eml"))
    assert mail.text == "Dobrý deň,\n\nnefunguje mi prihlásenie do aplikácie \u2013 stále píše chybu.\n\nĎakujem Jana"


def test_quoted_printable_body() -> None:
    mail = parse_mail(corpus_mail("quoted_printable.eml"))
    assert mail.text == ("Guten Tag,\n\nich möchte mein Abo kündigen. Bitte bestätigen Sie die Kündigung schriftlich.")


def test_base64_body() -> None:
    mail = parse_mail(corpus_mail("base64.eml"))
    assert mail.text == "Hola, me cobraron dos veces la misma compra. ¿Pueden devolverme el dinero?"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "iso_8859_2.eml",
            "Poštovani, proizvod je stigao oštećen. Želim reklamirati pošiljku i dobiti novac natrag. "
            "Hvala, Ivana Kovačić",
        ),
        (
            "windows_1250.eml",
            "Dobrý deň, na faktúre je nesprávna suma. Prosím o opravu a zaslanie novej faktúry. Ďakujem, Peter Hudák",
        ),
        ("shift_jis.eml", "注文した商品がまだ届きません。確認をお願いします。"),
    ],
)
def test_legacy_charsets_are_decoded(name: str, text: str) -> None:
    assert parse_mail(corpus_mail(name)).text == text


def test_encoded_word_headers_in_two_charsets() -> None:
    mail = parse_mail(corpus_mail("encoded_word_subject.eml"))
    assert mail.subject == "Problem s računom za studeni čekam odgovor"
    assert mail.from_name == "Ana Marić"
    assert parse_mail(corpus_mail("shift_jis.eml")).subject == "お問い合わせ"


def test_attachments_are_described_by_name_type_size_and_sha256() -> None:
    mail = parse_mail(corpus_mail("attachments.eml"))
    pdf, png = INVOICE_PDF, SCREENSHOT_PNG
    assert mail.attachments == (
        AttachmentInfo("faktura.pdf", "application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest()),
        AttachmentInfo("snímek obrazovky.png", "image/png", len(png), hashlib.sha256(png).hexdigest()),
    )
    assert mail.text == "Dobrý den, v příloze posílám fakturu se špatnou částkou. Prosím o opravu."


def test_a_bounce_keeps_its_human_readable_part_and_its_headers() -> None:
    mail = parse_mail(corpus_mail("bounce.eml"))
    assert mail.from_address == "mailer-daemon@mx.example.org"
    assert mail.text.startswith("This is the mail system at host mx.example.org.")
    assert mail.headers["content-type"].startswith("multipart/report")
    assert mail.attachments[0].content_type == "message/delivery-status"


def test_a_message_without_a_body_is_valid() -> None:
    mail = parse_mail(corpus_mail("no_body.eml"))
    assert mail.text == "" and mail.subject == "Call me back please"


def test_threading_headers_are_read_as_message_ids() -> None:
    raw = (
        b"From: a@example.net\r\nSubject: Re: x\r\nMessage-ID: <3@example.net>\r\n"
        b"In-Reply-To: <2@example.com>\r\nReferences: <1@example.net>\r\n <2@example.com>\r\n\r\nok\r\n"
    )
    mail = parse_mail(raw)
    assert mail.in_reply_to == ("<2@example.com>",)
    assert mail.references == ("<1@example.net>", "<2@example.com>")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            corpus_mail("malformed_mime.eml"),
            "malformed MIME structure: the multipart boundary never occurs in the body",
        ),
        (b"", "empty message"),
        (b"\r\n\r\njust a body without any header\r\n", "no header fields"),
        (b"Subject: who sent this?\r\n\r\nhello\r\n", "no valid From address"),
        (b"From: not an address\r\nSubject: x\r\n\r\nhello\r\n", "no valid From address"),
    ],
)
def test_unparseable_mail_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(UnparseableMail) as error:
        parse_mail(raw)
    assert str(error.value) == reason


def test_an_unknown_charset_degrades_instead_of_failing() -> None:
    body = base64.b64encode("Dobar dan, račun".encode())
    raw = (
        b"From: a@example.net\r\nContent-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + body + b"\r\n"
    )
    assert parse_mail(raw).text == "Dobar dan, račun"


def test_html_blockquotes_become_quoted_lines() -> None:
    html = "<div>Hvala!</div><blockquote><p>Stara poruka</p></blockquote>"
    assert html_to_text(html) == "Hvala!\n\n> Stara poruka"


def test_a_charset_name_with_a_nul_byte_degrades_instead_of_failing() -> None:
    raw = b'From: a@example.net\r\nContent-Type: text/plain; charset="utf\x00-8"\r\n\r\nDobar dan\r\n'
    assert parse_mail(raw).text == "Dobar dan"
