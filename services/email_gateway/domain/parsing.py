"""Raw RFC 5322 bytes to a `ParsedMail`: headers decoded, the best text body chosen, attachments described.

Uses the stdlib `email` package with `policy.default`, which decodes RFC 2047 headers and body charsets; each
message gets its own copy of it that parses every header once (`parse_policy`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import errors
from email.message import EmailMessage, Message
from email.parser import BytesParser

from services.email_gateway.domain.addresses import display_name_of, normalize_address
from services.email_gateway.domain.bounces import DeliveryFailure, delivery_failure
from services.email_gateway.domain.html_text import html_to_text
from services.email_gateway.domain.parse_policy import message_policy

# Defects after which we cannot tell which bytes are the body: such mail is refused rather than guessed at.
# Checked in this order; the first one found names the reason.
_FATAL_DEFECTS: tuple[tuple[type[errors.MessageDefect], str], ...] = (
    (errors.NoBoundaryInMultipartDefect, "a multipart part declares no boundary"),
    (errors.StartBoundaryNotFoundDefect, "the multipart boundary never occurs in the body"),
    (errors.CloseBoundaryNotFoundDefect, "a multipart part is never closed"),
    (errors.MultipartInvariantViolationDefect, "a multipart part has no subparts"),
)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


class UnparseableMail(ValueError):
    """The bytes are not a message we can turn into a contact; the reason is safe to show the sender."""


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str
    from_name: str
    subject: str
    text: str
    attachments: tuple[AttachmentInfo, ...]
    # Lower-cased header names to raw (undecoded) values, for the loop-prevention rules of RFC 3834.
    headers: dict[str, str]
    content_sha256: str
    # Set when the mail is a bounce reporting that one of our own mails could not be delivered.
    delivery_failure: DeliveryFailure | None = None


def parse_mail(raw: bytes) -> ParsedMail:
    if not raw.strip():
        raise UnparseableMail("empty message")
    message = BytesParser(policy=message_policy()).parsebytes(raw)
    if not message.keys():
        raise UnparseableMail("no header fields")
    defects = {type(defect) for part in message.walk() for defect in part.defects}
    for defect_type, explanation in _FATAL_DEFECTS:
        if defect_type in defects:
            raise UnparseableMail(f"malformed MIME structure: {explanation}")
    assert isinstance(message, EmailMessage)
    from_header = _header(message, "from")
    from_address = normalize_address(from_header)
    if not from_address:
        raise UnparseableMail("no valid From address")
    body_part = message.get_body(preferencelist=("plain", "html"))
    return ParsedMail(
        message_id=_first_message_id(_header(message, "message-id")),
        in_reply_to=tuple(_MESSAGE_ID.findall(_header(message, "in-reply-to"))),
        references=tuple(_MESSAGE_ID.findall(_header(message, "references"))),
        from_address=from_address,
        from_name=display_name_of(from_header),
        subject=" ".join(_header(message, "subject").split()),
        text=_text_of(body_part) if body_part is not None else "",
        attachments=tuple(_attachments(message, body_part)),
        headers=_raw_headers(message),
        content_sha256=hashlib.sha256(raw).hexdigest(),
        delivery_failure=delivery_failure(message),
    )


def _header(message: Message, name: str) -> str:
    """A header as text; a header the policy cannot parse falls back to its raw, undecoded form."""
    try:
        value = message.get(name)
    except (errors.HeaderParseError, IndexError, ValueError, AttributeError):  # the stdlib parser's known failures
        raw_values = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        return str(raw_values[0]) if raw_values else ""
    return str(value) if value is not None else ""


def _raw_headers(message: Message) -> dict[str, str]:
    """Every header's first value, unfolded but not parsed: the loop-prevention rules need only plain ASCII."""
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), " ".join(str(value).split()))
    return headers


def _first_message_id(value: str) -> str:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else ""


def _text_of(part: Message) -> str:
    text = _decoded_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _decoded_text(part: Message) -> str:
    """The part's text in its declared charset; unknown or lying charsets degrade to replacement characters."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(_charset_alias(charset))
    except (LookupError, ValueError):  # unknown codec, undecodable bytes, or a charset name with a NUL in it
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1252", errors="replace")


def _charset_alias(charset: str) -> str:
    # Mail clients label Windows-1250 / Shift-JIS text with the older standard names, which is a superset in practice.
    return {"iso-8859-1": "cp1252", "us-ascii": "utf-8", "shift_jis": "cp932", "x-sjis": "cp932"}.get(
        charset.lower(), charset
    )


def _attachments(message: EmailMessage, body_part: Message | None) -> list[AttachmentInfo]:
    found: list[AttachmentInfo] = []
    for part in _leaf_parts(message):
        if part is body_part:
            continue
        filename = part.get_filename() or ""
        is_attachment = part.get_content_disposition() == "attachment" or bool(filename)
        if not is_attachment and part.get_content_type() in ("text/plain", "text/html"):
            continue  # the other alternative of the body
        content = _content_bytes(part)
        found.append(
            AttachmentInfo(
                filename=filename,
                content_type=part.get_content_type(),
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    return found


def _leaf_parts(part: Message) -> Iterator[Message]:
    """Every non-multipart part; an attached message (a bounce's original, a forward) counts as one part."""
    if part.is_multipart() and part.get_content_maintype() != "message":
        for sub_part in part.get_payload():
            if isinstance(sub_part, Message):
                yield from _leaf_parts(sub_part)
    else:
        yield part


def _content_bytes(part: Message) -> bytes:
    if part.is_multipart():  # message/rfc822 or message/delivery-status: their serialized content
        return b"".join(sub.as_bytes() for sub in part.get_payload() if isinstance(sub, Message))
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""
