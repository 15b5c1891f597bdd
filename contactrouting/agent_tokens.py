"""Signed, expiring agent tokens: issued by `skillsctl agents token`, verified by the router at login.

A token is `<agent id, base64url>.<expiry, unix seconds>.<HMAC-SHA256 over both, base64url>`. It binds one agent
id to an expiry; anyone holding the secret (env AGENT_TOKEN_SECRET) can issue and verify, nobody else can forge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MIN_SECRET_BYTES = 16


class InvalidAgentToken(ValueError):
    """Malformed, forged, or signed with another secret."""


class ExpiredAgentToken(InvalidAgentToken):
    pass


def issue_token(agent_id: str, secret: str, ttl_s: int, now: float) -> str:
    if not agent_id:
        raise ValueError("agent_id must not be empty")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    _check_secret(secret)
    expiry = int(now) + int(ttl_s)
    encoded_id = _b64encode(agent_id.encode())
    return f"{encoded_id}.{expiry}.{_signature(secret, encoded_id, expiry)}"


def verify_token(token: str, secret: str, now: float) -> str:
    """The agent id the token was issued for; raises InvalidAgentToken or ExpiredAgentToken."""
    _check_secret(secret)
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise InvalidAgentToken("malformed agent token")
    encoded_id, expiry_text, signature = parts
    expiry = int(expiry_text)
    # Check the signature before trusting anything in the token, expiry included.
    if not hmac.compare_digest(signature, _signature(secret, encoded_id, expiry)):
        raise InvalidAgentToken("agent token signature does not match")
    if now >= expiry:
        raise ExpiredAgentToken("agent token has expired")
    try:
        return _b64decode(encoded_id).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidAgentToken("malformed agent id in token") from None


def _signature(secret: str, encoded_id: str, expiry: int) -> str:
    mac = hmac.new(secret.encode(), f"{encoded_id}.{expiry}".encode(), hashlib.sha256)
    return _b64encode(mac.digest())


def _check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the agent token secret must be at least {MIN_SECRET_BYTES} bytes")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
