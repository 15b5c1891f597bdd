"""Webhook authenticity per platform; every comparison is constant-time so timing leaks nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from enum import Enum


class Verdict(Enum):
    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"


def verify_shared_secret(presented: str | None, expected: str) -> Verdict:
    """Telegram's X-Telegram-Bot-Api-Secret-Token: the bot's secret, sent verbatim."""
    if not presented:
        return Verdict.MISSING
    return Verdict.VALID if hmac.compare_digest(presented.encode(), expected.encode()) else Verdict.INVALID


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hmac_sha256_base64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_meta_signature(header: str | None, body: bytes, app_secret: str) -> Verdict:
    """Meta's X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret."""
    if not header:
        return Verdict.MISSING
    if not app_secret:
        return Verdict.INVALID  # an unconfigured secret must never make every signature "valid"
    expected = "sha256=" + hmac_sha256_hex(app_secret, body)
    return Verdict.VALID if hmac.compare_digest(header.strip().encode(), expected.encode()) else Verdict.INVALID


def verify_x_signature(header: str | None, body: bytes, consumer_secret: str) -> Verdict:
    """X's x-twitter-webhooks-signature: "sha256=" + base64 HMAC-SHA256 of the raw body with the consumer secret."""
    if not header:
        return Verdict.MISSING
    if not consumer_secret:
        return Verdict.INVALID
    expected = "sha256=" + hmac_sha256_base64(consumer_secret, body)
    return Verdict.VALID if hmac.compare_digest(header.strip().encode(), expected.encode()) else Verdict.INVALID


def x_crc_response(crc_token: str, consumer_secret: str) -> str:
    """The answer to X's GET CRC challenge."""
    return "sha256=" + hmac_sha256_base64(consumer_secret, crc_token.encode())
