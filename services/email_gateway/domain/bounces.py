"""Delivery status notifications (RFC 3464): a relay that accepted our reply may still bounce it later."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser


@dataclass(frozen=True)
class DeliveryFailure:
    # The Message-ID of our own mail that could not be delivered.
    original_message_id: str
    # RFC 3463 status, e.g. "5.1.1".
    status: str
    diagnostic: str


def delivery_failure(message: Message) -> DeliveryFailure | None:
    """The permanent failure a bounce reports, with the Message-ID it reports it for; None for anything else."""
    if message.get_content_type() != "multipart/report":
        return None
    status = diagnostic = original = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload():
                if isinstance(block, Message) and str(block.get("Action", "")).strip().lower() == "failed":
                    status = str(block.get("Status", "")).strip()
                    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        elif content_type == "message/rfc822" and not original:
            attached = part.get_payload()
            if isinstance(attached, list) and attached and isinstance(attached[0], Message):
                original = str(attached[0].get("Message-ID", "")).strip()
        elif content_type == "text/rfc822-headers" and not original:
            payload = part.get_payload(decode=True)
            text = payload.decode("ascii", "replace") if isinstance(payload, bytes) else ""
            headers = HeaderParser().parsestr(text)
            original = str(headers.get("Message-ID", "")).strip()
    if status.startswith("5") and original:
        return DeliveryFailure(original, status, diagnostic)
    return None
