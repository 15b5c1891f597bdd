"""The gateway's YAML config: bad files fail at start naming the problem; IMAP accounts and their secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.email_gateway.config import GatewayConfig, load_gateway_config

MAILBOXES = [{"address": "support@example.com", "queue": "general"}]
ACCOUNT = {"name": "helpdesk", "host": "imap.example.net", "username": "u", "password_env": "HELPDESK_IMAP_PASSWORD"}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"mailboxes": []}, "mailboxes"),
        ({"mailboxes": [{"address": "not-an-address", "queue": "general"}]}, "mailboxes.0.address"),
        ({"mailboxes": [{"address": "a@example.com", "queue": "general", "priority": "asap"}]}, "priority"),
        ({"mailboxes": [{"address": "a@example.com", "queue": "general", "colour": "red"}]}, "colour"),
        (
            {"mailboxes": [{"address": "a@example.com", "queue": "general", "required_skills": {"billing": 9}}]},
            "required_skills.billing",
        ),
    ],
)
def test_bad_config_fails_at_start_naming_the_problem(tmp_path: Path, document: dict[str, Any], problem: str) -> None:
    path = tmp_path / "email_gateway.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SystemExit) as exited:
        load_gateway_config(path)
    assert str(path) in str(exited.value) and problem in str(exited.value)


def test_a_missing_config_file_is_named() -> None:
    with pytest.raises(SystemExit, match=r"cannot read /nonexistent/email_gateway\.yaml"):
        load_gateway_config(Path("/nonexistent/email_gateway.yaml"))


def test_an_imap_account_must_feed_a_configured_mailbox(tmp_path: Path) -> None:
    path = tmp_path / "email_gateway.yaml"
    path.write_text(
        yaml.safe_dump({"mailboxes": MAILBOXES, "imap_accounts": [{**ACCOUNT, "mailbox": "x@example.com"}]})
    )
    with pytest.raises(SystemExit, match=r"feeds 'x@example\.com', which is not a mailbox"):
        load_gateway_config(path)


def test_imap_passwords_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = GatewayConfig.model_validate(
        {"mailboxes": MAILBOXES, "imap_accounts": [{**ACCOUNT, "mailbox": "support@example.com"}]}
    )
    [account] = config.imap_accounts
    assert (account.port, account.tls, account.folder, account.use_idle) == (993, True, "INBOX", True)
    monkeypatch.delenv("HELPDESK_IMAP_PASSWORD", raising=False)
    with pytest.raises(SystemExit, match=r"needs its password in \$HELPDESK_IMAP_PASSWORD"):
        account.password()
    monkeypatch.setenv("HELPDESK_IMAP_PASSWORD", "s3cret")
    assert account.password() == "s3cret"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ""), ("https://feedback.example.com/", "https://feedback.example.com"), ("http://127.0.0.1:8080", None)],
)
def test_feedback_base_url_is_an_http_url_without_trailing_slash(value: str, expected: str | None) -> None:
    from services.email_gateway.config import EmailGatewaySettings

    assert EmailGatewaySettings(feedback_base_url=value).feedback_base_url == (
        expected if expected is not None else value
    )


@pytest.mark.parametrize("value", ["feedback.example.com", "ftp://example.com", "https://example.com/?a=1", "https://"])
def test_a_feedback_base_url_that_cannot_prefix_a_link_is_refused(value: str) -> None:
    from pydantic import ValidationError

    from services.email_gateway.config import EmailGatewaySettings

    with pytest.raises(ValidationError, match="FEEDBACK_BASE_URL"):
        EmailGatewaySettings(feedback_base_url=value)


def test_the_thread_database_is_empty_or_a_supported_url_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from services.email_gateway.config import EmailGatewaySettings

    monkeypatch.delenv("EMAIL_GATEWAY_DATABASE_URL", raising=False)
    assert EmailGatewaySettings().email_gateway_database_url.get_secret_value() == ""
    url = "postgresql+psycopg://mail:s3cret-password@postgresql:5432/mail"
    monkeypatch.setenv("EMAIL_GATEWAY_DATABASE_URL", url)
    settings = EmailGatewaySettings()
    assert settings.email_gateway_database_url.get_secret_value() == url
    assert "s3cret-password" not in repr(settings)
    for refused in ("mysql://mail@db/mail", "not a url"):
        monkeypatch.setenv("EMAIL_GATEWAY_DATABASE_URL", refused)
        with pytest.raises(ValidationError, match="EMAIL_GATEWAY_DATABASE_URL"):
            EmailGatewaySettings()
