"""The YAML config: demo secrets are detectable, secrets can come from the environment, typos are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.social_gateway.settings import load_config

from .conftest import DEMO_CONFIG


def test_the_demo_config_uses_every_demo_secret() -> None:
    config = load_config(DEMO_CONFIG)
    assert config.demo_secrets_in_use() == [
        "meta.app_secret",
        "meta.verify_token",
        "telegram.bots.demo-bot.secret_token",
        "x.consumer_secret",
    ]
    rules = config.queue_rules()
    assert rules.queue_for("whatsapp", "109000000000001", "hello") == "billing"
    assert rules.queue_for("telegram", "demo-bot", "hello") == "general"


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "social.yaml"
    path.write_text("telegram:\n  bots:\n    prod-bot:\n      secret_token: ${TG_SECRET}\n")
    monkeypatch.setenv("TG_SECRET", "from-env")
    config = load_config(path)
    assert config.telegram.bots["prod-bot"].secret_token == "from-env"
    assert config.demo_secrets_in_use() == []
    monkeypatch.delenv("TG_SECRET")
    with pytest.raises(ValueError, match="TG_SECRET"):
        load_config(path)


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "social.yaml"
    path.write_text("telegram:\n  botz: {}\n")
    with pytest.raises(ValidationError):
        load_config(path)


def test_the_feedback_secret_is_empty_or_long_enough_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.social_gateway.settings import SocialGatewaySettings

    monkeypatch.delenv("FEEDBACK_TOKEN_SECRET", raising=False)
    assert SocialGatewaySettings().feedback_token_secret.get_secret_value() == ""
    monkeypatch.setenv("FEEDBACK_TOKEN_SECRET", "sixteen-bytes-ok")
    settings = SocialGatewaySettings()
    assert settings.feedback_token_secret.get_secret_value() == "sixteen-bytes-ok"
    assert "sixteen-bytes-ok" not in repr(settings)
    monkeypatch.setenv("FEEDBACK_TOKEN_SECRET", "too-short")
    with pytest.raises(ValidationError, match="at least 16 bytes"):
        SocialGatewaySettings()


def test_the_store_database_is_empty_or_a_supported_url_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.social_gateway.settings import SocialGatewaySettings

    monkeypatch.delenv("SOCIAL_GATEWAY_DATABASE_URL", raising=False)
    assert SocialGatewaySettings().social_gateway_database_url.get_secret_value() == ""
    url = "postgresql+psycopg://gateway:s3cret-password@postgresql:5432/gateway"
    monkeypatch.setenv("SOCIAL_GATEWAY_DATABASE_URL", url)
    settings = SocialGatewaySettings()
    assert settings.social_gateway_database_url.get_secret_value() == url
    assert "s3cret-password" not in repr(settings)
    for refused in ("mysql://gateway@db/gateway", "not a url"):
        monkeypatch.setenv("SOCIAL_GATEWAY_DATABASE_URL", refused)
        with pytest.raises(ValidationError, match="SOCIAL_GATEWAY_DATABASE_URL"):
            SocialGatewaySettings()
