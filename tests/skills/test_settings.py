from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.skills.settings import SkillsSettings


def test_defaults_follow_the_runtime_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SKILLS_GRPC_PORT", "DATABASE_URL", "SKILLS_ADMIN_TOKEN", "SKILLS_READ_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = SkillsSettings()
    assert settings.skills_grpc_port == 50052
    assert settings.skills_admin_token == "demo-admin-token"
    assert settings.skills_read_token == "demo-read-token"
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'skills.db'}"


def test_database_url_wins_over_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://skills@db/skills")
    assert SkillsSettings().resolved_database_url() == "postgresql://skills@db/skills"


def test_the_delivery_timeout_must_outlast_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT_MS", "10000")
    monkeypatch.setenv("OUTBOX_DELIVERY_TIMEOUT_MS", "5000")
    with pytest.raises(ValidationError, match="OUTBOX_DELIVERY_TIMEOUT_MS"):
        SkillsSettings()


def test_short_tokens_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLS_ADMIN_TOKEN", "x")
    with pytest.raises(ValidationError, match="skills_admin_token"):
        SkillsSettings()
