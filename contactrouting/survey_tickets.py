"""Signed, expiring survey tickets: issued by the router with each survey, verified where answers arrive.

A ticket is `<SurveyTicket protobuf, base64url>.<HMAC-SHA256 over it, base64url>`. It names the survey, contact,
agent, queue, language and channel, so an answer can be attributed without a lookup, and nobody without the
secret (env FEEDBACK_TOKEN_SECRET) can forge one or change what it says. The expiry lives inside the signed part.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from contactrouting.signing import b64decode, b64encode, check_secret, sign, signature_matches
from contactrouting.v1 import feedback_pb2

MAX_TICKET_CHARS = 2048  # far above a real ticket; refuses oversized input before decoding it


class InvalidSurveyTicket(ValueError):
    """Malformed, forged, or signed with another secret."""


class ExpiredSurveyTicket(InvalidSurveyTicket):
    pass


def issue_ticket(ticket: feedback_pb2.SurveyTicket, secret: str) -> str:
    if not ticket.survey_id or not ticket.expires_at.seconds:
        raise ValueError("a survey ticket needs a survey_id and an expiry")
    check_secret(secret, "feedback token")
    payload = b64encode(ticket.SerializeToString(deterministic=True))
    return f"{payload}.{_signature(secret, payload)}"


def verify_ticket(token: str, secret: str, now: float) -> feedback_pb2.SurveyTicket:
    """The ticket the token carries; raises InvalidSurveyTicket or ExpiredSurveyTicket."""
    check_secret(secret, "feedback token")
    payload, dot, signature = token.partition(".")
    if not dot or not payload or len(token) > MAX_TICKET_CHARS:
        raise InvalidSurveyTicket("malformed survey ticket")
    # Check the signature before trusting anything in the ticket, expiry included.
    if not signature_matches(signature, _signature(secret, payload)):
        raise InvalidSurveyTicket("survey ticket signature does not match")
    try:
        ticket = feedback_pb2.SurveyTicket.FromString(b64decode(payload))
    except (ValueError, DecodeError):
        raise InvalidSurveyTicket("malformed survey ticket payload") from None
    if now >= ticket.expires_at.seconds:
        raise ExpiredSurveyTicket("survey ticket has expired")
    return ticket


def _signature(secret: str, payload: str) -> str:
    # The prefix keeps a survey signature from ever verifying as another kind of token under the same secret.
    return sign(secret, b"survey-ticket." + payload.encode())
