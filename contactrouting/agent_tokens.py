"""Signed, expiring agent tokens: issued by `skillsctl agents token`, verified by the router at login.

A token is `<agent id, base64url>.<expiry, unix seconds>.<HMAC-SHA256 over both, base64url>`. It binds one agent
id to an expiry; anyone holding the secret (env AGENT_TOKEN_SECRET) can issue and verify, nobody else can forge.
"""

from __future__ import annotations

from contactrouting.signing import MIN_SECRET_BYTES, b64decode, b64encode, check_secret, sign, signature_matches

__all__ = ["MIN_SECRET_BYTES", "ExpiredAgentToken", "InvalidAgentToken", "issue_token", "verify_token"]


class InvalidAgentToken(ValueError):
    """Malformed, forged, or signed with another secret."""


class ExpiredAgentToken(InvalidAgentToken):
    pass


def issue_token(agent_id: str, secret: str, ttl_s: int, now: float) -> str:
    if not agent_id:
        raise ValueError("agent_id must not be empty")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    check_secret(secret, "agent token")
    expiry = int(now) + int(ttl_s)
    encoded_id = b64encode(agent_id.encode())
    return f"{encoded_id}.{expiry}.{_signature(secret, encoded_id, expiry)}"


def verify_token(token: str, secret: str, now: float) -> str:
    """The agent id the token was issued for; raises InvalidAgentToken or ExpiredAgentToken."""
    check_secret(secret, "agent token")
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise InvalidAgentToken("malformed agent token")
    encoded_id, expiry_text, signature = parts
    expiry = int(expiry_text)
    # Check the signature before trusting anything in the token, expiry included.
    if not signature_matches(signature, _signature(secret, encoded_id, expiry)):
        raise InvalidAgentToken("agent token signature does not match")
    if now >= expiry:
        raise ExpiredAgentToken("agent token has expired")
    try:
        return b64decode(encoded_id).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidAgentToken("malformed agent id in token") from None


def _signature(secret: str, encoded_id: str, expiry: int) -> str:
    return sign(secret, f"{encoded_id}.{expiry}".encode())
