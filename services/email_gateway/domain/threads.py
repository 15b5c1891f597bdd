"""Which conversation a mail belongs to: its references first, then the reference tag our own mails carry."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from services.email_gateway.domain.parsing import ParsedMail

# Our outbound subjects carry e.g. "[#AB12CD]"; no ambiguous letters (0/O, 1/I) so customers can type it.
TAG_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TAG_LENGTH = 6
_TAG = re.compile(rf"\[#([{TAG_ALPHABET}]{{{TAG_LENGTH}}})\]")


@dataclass(frozen=True)
class Conversation:
    conversation_id: str
    reference_tag: str


_CONTACT_NAMESPACE = uuid.UUID("0b8f3c1e-5d2a-4c6b-9e71-2f4a8d6c3b90")


def new_reference_tag() -> str:
    return "".join(secrets.choice(TAG_ALPHABET) for _ in range(TAG_LENGTH))


def reference_tag_in(subject: str) -> str | None:
    found = _TAG.search(subject.upper())
    return found.group(1) if found else None


def tagged_subject(subject: str, tag: str) -> str:
    """The subject with our tag exactly once, so replies keep threading even without References."""
    if reference_tag_in(subject) == tag:
        return subject
    return f"{subject} [#{tag}]".strip()


def referenced_ids(mail: ParsedMail) -> list[str]:
    """The Message-IDs a mail answers, nearest first: In-Reply-To, then References from the end."""
    ordered = [*mail.in_reply_to, *reversed(mail.references)]
    return list(dict.fromkeys(ordered))


def dedupe_key(mail: ParsedMail) -> str:
    """The Message-ID, or the content hash for the rare mail without one; a redelivery has the same key."""
    return mail.message_id or f"sha256:{mail.content_sha256}"


def contact_id_for(key: str) -> str:
    """Derived from the dedupe key: a mail published twice (the gateway died between the Kafka ack and recording
    it, or a 451 after a slow ack the broker still completed) stays one contact, which the router sees once."""
    return str(uuid.uuid5(_CONTACT_NAMESPACE, f"email:{key}"))
