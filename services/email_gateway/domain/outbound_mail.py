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
    # RFC 3834 Auto-Submitted: "auto-replied" for acknowledgements, "auto-generated" for surveys, "" for agents.
    auto_submitted: str = ""
    # An HTML alternative to `body`, for mail whose links should be buttons.
    html_body: str = ""

    @property
    def automatic(self) -> bool:
        return bool(self.auto_submitted)

    @property
    def envelope_from(self) -> str:
        """The null reverse-path for auto-replies (RFC 3834), so a bounce of one never reaches anybody."""
        return "" if self.auto_submitted == "auto-replied" else self.from_mailbox


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
        # RFC 3834: marks automatic mail so that well-behaved robots (vacation notices) never answer it.
        message["Auto-Submitted"] = reply.auto_submitted
        message["X-Auto-Response-Suppress"] = "All"
    if reply.auto_submitted == "auto-replied":
        message["Precedence"] = "bulk"
    message.set_content(reply.body)
    if reply.html_body:
        message.add_alternative(reply.html_body, subtype="html")
    return message


def backoff_delays(max_attempts: int, first_delay_s: float, max_delay_s: float) -> list[float]:
    """Waits between attempts: doubling from `first_delay_s`, capped; one fewer than the attempts."""
    return [min(first_delay_s * 2**attempt, max_delay_s) for attempt in range(max(0, max_attempts - 1))]
