"""An outbound reply as an RFC 5322 message that the customer's mail client threads under their own mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from services.email_gateway.domain.addresses import format_address
from services.email_gateway.domain.threads import tagged_subject


@dataclass(frozen=True)
class Reply:
    # Stable per outbound message, so a redelivered record yields the same Message-ID and clients dedupe it.
    outbound_id: str
    from_mailbox: str
    to_address: str
    to_name: str
    subject: str
    body: str
    reference_tag: str
    in_reply_to: str
    references: Sequence[str]
    automatic: bool


def message_id_for(outbound_id: str, from_mailbox: str) -> str:
    return f"<{outbound_id}@{from_mailbox.rpartition('@')[2] or 'localhost'}>"


def compose(reply: Reply) -> EmailMessage:
    message = EmailMessage()
    message["From"] = reply.from_mailbox
    message["To"] = format_address(reply.to_name, reply.to_address) if reply.to_name else reply.to_address
    message["Subject"] = tagged_subject(reply.subject or "Re: your message", reply.reference_tag)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id_for(reply.outbound_id, reply.from_mailbox)
    if reply.in_reply_to:
        message["In-Reply-To"] = reply.in_reply_to
    references = list(dict.fromkeys([*reply.references, reply.in_reply_to]))
    if any(references):
        message["References"] = " ".join(reference for reference in references if reference)
    if reply.automatic:
        # RFC 3834: marks the acknowledgement so that well-behaved robots never answer it.
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
        message["Precedence"] = "bulk"
    message.set_content(reply.body)
    return message


def backoff_delays(max_attempts: int, first_delay_s: float, max_delay_s: float) -> list[float]:
    """Waits between attempts: doubling from `first_delay_s`, capped; one fewer than the attempts."""
    return [min(first_delay_s * 2**attempt, max_delay_s) for attempt in range(max(0, max_attempts - 1))]
