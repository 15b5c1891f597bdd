"""Webhook signature checks against values computed the way each platform documents them."""

from __future__ import annotations

import base64
import hashlib
import hmac

from services.social_gateway.domain.signatures import (
    Verdict,
    verify_meta_signature,
    verify_shared_secret,
    verify_x_signature,
    x_crc_response,
)

BODY = b'{"object":"page","entry":[]}'


def test_telegram_secret_token() -> None:
    assert verify_shared_secret("s3cret", "s3cret") is Verdict.VALID
    assert verify_shared_secret("s3creT", "s3cret") is Verdict.INVALID
    assert verify_shared_secret("", "s3cret") is Verdict.MISSING
    assert verify_shared_secret(None, "s3cret") is Verdict.MISSING
    assert verify_shared_secret("žž", "s3cret") is Verdict.INVALID


def test_meta_x_hub_signature_256() -> None:
    good = "sha256=" + hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    assert verify_meta_signature(good, BODY, "app-secret") is Verdict.VALID
    assert verify_meta_signature(good, BODY + b" ", "app-secret") is Verdict.INVALID
    assert verify_meta_signature(good.replace("sha256=", "sha1="), BODY, "app-secret") is Verdict.INVALID
    assert verify_meta_signature(None, BODY, "app-secret") is Verdict.MISSING


def test_an_unconfigured_secret_never_validates() -> None:
    empty_key = "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    assert verify_meta_signature(empty_key, BODY, "") is Verdict.INVALID
    empty_x = "sha256=" + base64.b64encode(hmac.new(b"", BODY, hashlib.sha256).digest()).decode()
    assert verify_x_signature(empty_x, BODY, "") is Verdict.INVALID


def test_x_signature_and_crc() -> None:
    good = "sha256=" + base64.b64encode(hmac.new(b"consumer", BODY, hashlib.sha256).digest()).decode()
    assert verify_x_signature(good, BODY, "consumer") is Verdict.VALID
    assert verify_x_signature(good, BODY, "other") is Verdict.INVALID
    assert verify_x_signature("", BODY, "consumer") is Verdict.MISSING
    expected = "sha256=" + base64.b64encode(hmac.new(b"consumer", b"token", hashlib.sha256).digest()).decode()
    assert x_crc_response("token", "consumer") == expected
