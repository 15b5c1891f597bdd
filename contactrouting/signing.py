"""The HMAC and base64url primitives shared by the platform's signed tokens (agent logins, survey tickets)."""

from __future__ import annotations

import base64
import hashlib
import hmac

MIN_SECRET_BYTES = 16


def check_secret(secret: str, what: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the {what} secret must be at least {MIN_SECRET_BYTES} bytes")


def sign(secret: str, message: bytes) -> str:
    """HMAC-SHA256 of the message, base64url without padding."""
    return b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def signature_matches(signature: str, expected: str) -> bool:
    return hmac.compare_digest(signature.encode(), expected.encode())


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
