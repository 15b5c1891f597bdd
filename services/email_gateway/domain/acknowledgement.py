"""Auto-acknowledgement of a new conversation: when RFC 3834 allows it, and what it says in which language."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from services.email_gateway.domain.parsing import ParsedMail

_ROBOT_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply", "bounce", "bounces"}
)


def is_automatic(mail: ParsedMail, envelope_sender: str | None, own_addresses: Container[str]) -> bool:
    """True for mail that must never be answered automatically: robots, lists, bounces and our own mail.

    `envelope_sender` is SMTP's MAIL FROM ("" for the null reverse-path of bounces), None when unknown (IMAP).
    """
    headers = mail.headers
    if headers.get("auto-submitted", "no").split(";")[0].strip().lower() != "no":
        return True
    if headers.get("precedence", "").strip().lower() in {"bulk", "list", "junk"}:
        return True
    if any(name in headers for name in ("list-id", "list-unsubscribe", "x-autoreply", "x-autorespond")):
        return True
    suppressed = {value.strip().lower() for value in headers.get("x-auto-response-suppress", "").split(",")}
    if suppressed & {"all", "autoreply", "oof"}:
        return True
    if headers.get("content-type", "").strip().lower().startswith("multipart/report"):
        return True
    if envelope_sender == "" or headers.get("return-path", "").strip() == "<>":
        return True
    local_part = mail.from_address.partition("@")[0]
    return local_part in _ROBOT_LOCAL_PARTS or mail.from_address in own_addresses


@dataclass(frozen=True)
class AcknowledgementText:
    subject: str
    body: str


_TEMPLATES: dict[str, tuple[str, str]] = {
    "en": (
        "We received your message",
        "Hello,\n\nthank you for contacting us. We received your message and will answer within {response_time}.\n"
        "Your reference is #{tag}; please keep it in the subject when you write to us about this matter.\n\n"
        "This is an automatic reply.",
    ),
    "hr": (
        "Zaprimili smo vašu poruku",
        "Poštovani,\n\nhvala što ste nam se obratili. Zaprimili smo vašu poruku i odgovorit ćemo u roku od "
        "{response_time}.\nVaša referenca je #{tag}; molimo zadržite je u naslovu kada nam pišete o ovom predmetu.\n\n"
        "Ovo je automatski odgovor.",
    ),
    "sk": (
        "Vašu správu sme prijali",
        "Dobrý deň,\n\nďakujeme, že ste nás kontaktovali. Vašu správu sme prijali a odpovieme do {response_time}.\n"
        "Vaše referenčné číslo je #{tag}; ponechajte ho, prosím, v predmete, keď nám budete písať v tejto veci.\n\n"
        "Toto je automatická odpoveď.",
    ),
}
DEFAULT_LANGUAGE = "en"


def acknowledgement_text(language: str, tag: str, response_time: str, original_subject: str) -> AcknowledgementText:
    """The localized acknowledgement; languages without a template get English."""
    subject_line, body = _TEMPLATES.get(language, _TEMPLATES[DEFAULT_LANGUAGE])
    subject = f"{subject_line}: {original_subject}" if original_subject else subject_line
    return AcknowledgementText(
        subject=f"{subject} [#{tag}]", body=body.format(response_time=response_time or "24 h", tag=tag)
    )
