"""How desk messages read in a terminal: one short line each, an offer with what an agent decides on."""

from __future__ import annotations

import time

from contactrouting.v1 import agent_desk_pb2, contact_pb2

PRESENCE_NAMES = {
    agent_desk_pb2.PRESENCE_AVAILABLE: "available",
    agent_desk_pb2.PRESENCE_AWAY: "away",
    agent_desk_pb2.PRESENCE_OFFLINE: "offline",
}


def channel_label(channel: int) -> str:
    return contact_pb2.Channel.Name(channel).removeprefix("CHANNEL_").lower()  # type: ignore[arg-type]


def waited(milliseconds: int) -> str:
    seconds = milliseconds // 1000
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def snippet(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def offer_lines(offer: agent_desk_pb2.Offer, now: float | None = None) -> list[str]:
    contact = offer.contact
    translation = "  [needs translation]" if offer.needs_translation else ""
    expires_in = offer.expires_at.seconds + offer.expires_at.nanos / 1e9 - (time.time() if now is None else now)
    return [
        f"OFFER {offer.offer_id}  {channel_label(contact.channel)}  lang={contact.language or '?'}"
        f"  queue={offer.queue}  priority={offer.priority}  waiting {waited(offer.waiting_ms)}"
        f"  answer within {max(0, round(expires_in))}s{translation}",
        f"  subject: {snippet(contact.subject) or '-'}",
        f"  message: {snippet(contact.body_text)}",
        f"  why you: {offer.decision.summary or '-'} (step {offer.decision.relaxation_step or 'initial'})",
    ]


def assignment_line(number: int, assignment: agent_desk_pb2.Assignment) -> str:
    contact = assignment.contact
    return (
        f"[{number}] {assignment.contact_id}  {channel_label(contact.channel)}  lang={contact.language or '?'}"
        f"  {snippet(contact.subject or contact.body_text, 50)}"
    )


def message_line(message: agent_desk_pb2.DeskMessage) -> str:
    """A one-line account of any desk message except offers and assignments, which have their own views."""
    kind = message.WhichOneof("kind")
    if kind == "login_accepted":
        accepted = message.login_accepted
        return f"logged in as {accepted.agent_id} ({PRESENCE_NAMES.get(accepted.presence, '?')})"
    if kind == "offer_rescinded":
        return f"offer {message.offer_rescinded.offer_id} withdrawn: {message.offer_rescinded.reason}"
    if kind == "presence_changed":
        changed = message.presence_changed
        return f"presence: {PRESENCE_NAMES.get(changed.presence, '?')} ({changed.reason_code or '-'})"
    if kind == "contact_closed":
        return f"contact {message.contact_closed.contact_id} closed: {message.contact_closed.disposition}"
    if kind == "error":
        return f"refused: {message.error.code}: {message.error.message}"
    return f"{kind}"
