"""Bad configuration fails at start with a message naming the variable."""

from __future__ import annotations

import pytest
from pydantic import Field

from contactrouting.config import ServiceSettings, load_settings


def test_defaults_point_at_the_local_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert load_settings(ServiceSettings).kafka_bootstrap_servers == "127.0.0.1:19092"


def test_an_invalid_value_exits_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_SESSION_TIMEOUT_MS", "ten")
    with pytest.raises(SystemExit) as exited:
        load_settings(ServiceSettings)
    assert exited.value.code == 2
    assert "KAFKA_SESSION_TIMEOUT_MS" in capsys.readouterr().err


def test_a_rejected_secret_is_not_echoed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class WithSecret(ServiceSettings):
        agent_token_secret: str = Field(default="", min_length=16)

    monkeypatch.setenv("AGENT_TOKEN_SECRET", "hunter2-typo")
    with pytest.raises(SystemExit):
        load_settings(WithSecret)
    err = capsys.readouterr().err
    assert "AGENT_TOKEN_SECRET" in err
    assert "hunter2-typo" not in err
