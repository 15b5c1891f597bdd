"""The email gateway's settings (env) and mailbox config (YAML), validated at start with clear messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from contactrouting.config import ServiceSettings
from contactrouting.database import check_database_url
from services.email_gateway.adapters.smtp_relay import RelayTls
from services.email_gateway.domain.mailboxes import PRIORITY_LEVELS, KeywordRule, Mailbox, MailboxDirectory


class EmailGatewaySettings(ServiceSettings):
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    email_health_port: int = Field(default=8081, ge=0, le=65535)
    email_gateway_config: Path = Path("config/email_gateway.yaml")
    # Optional STARTTLS for inbound SMTP: both files (PEM) or neither.
    smtp_tls_cert_file: Path | None = None
    smtp_tls_key_file: Path | None = None
    smtp_relay_host: str = "127.0.0.1"
    smtp_relay_port: int = Field(default=2526, ge=1, le=65535)
    # The relay's transport security: none, starttls (submission, 587) or tls (implicit, 465); a login needs one.
    smtp_relay_tls: RelayTls = RelayTls.NONE
    smtp_relay_username: str = ""
    smtp_relay_password: SecretStr = SecretStr("")
    # A private CA for the relay's certificate (PEM); empty: the system's trusted CAs.
    smtp_relay_ca_file: Path | None = None
    # How long an SMTP session waits for Kafka's ack before answering 451.
    email_publish_timeout_s: float = Field(default=10.0, ge=1)
    # Replicas of one deployment share this consumer group; separate deployments on one broker need their own.
    email_outbound_group: str = Field(default="email-gateway-outbound", min_length=1)
    # Replies out: attempts through the relay, with doubling waits between them.
    email_send_max_attempts: int = Field(default=5, ge=1)
    email_send_first_retry_s: float = Field(default=2.0, gt=0)
    email_send_max_retry_s: float = Field(default=60.0, gt=0)
    # The public URL of the feedback endpoint (the social gateway's HTTP server); survey mails link to
    # {FEEDBACK_BASE_URL}/feedback/{ticket}. Without it a survey mail cannot be sent and is recorded as failed.
    feedback_base_url: str = ""
    # The thread store. Empty: a SQLite file under DATA_DIR, right for one replica only. Several replicas need a
    # shared database (postgresql+psycopg://...), or a reply reaching another pod starts a new conversation.
    email_gateway_database_url: SecretStr = SecretStr("")

    @field_validator("email_gateway_database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value():
            check_database_url(value.get_secret_value(), "EMAIL_GATEWAY_DATABASE_URL")
        return value

    @field_validator("feedback_base_url")
    @classmethod
    def _an_http_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            raise ValueError("FEEDBACK_BASE_URL must be an http(s) URL such as https://feedback.example.com")
        if urlsplit(value).query or urlsplit(value).fragment:
            raise ValueError("FEEDBACK_BASE_URL must not carry a query or a fragment")
        return value

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> EmailGatewaySettings:
        if (self.smtp_tls_cert_file is None) != (self.smtp_tls_key_file is None):
            raise ValueError("set both SMTP_TLS_CERT_FILE and SMTP_TLS_KEY_FILE for STARTTLS, or neither")
        return self

    @model_validator(mode="after")
    def _relay_login_only_over_tls(self) -> EmailGatewaySettings:
        if self.smtp_relay_username and self.smtp_relay_tls is RelayTls.NONE:
            raise ValueError("SMTP_RELAY_USERNAME needs SMTP_RELAY_TLS=starttls or tls: no login in the clear")
        if self.smtp_relay_username and not self.smtp_relay_password.get_secret_value():
            raise ValueError("SMTP_RELAY_USERNAME is set but SMTP_RELAY_PASSWORD is empty")
        return self


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Skill name -> minimum proficiency, on the platform's 1-5 scale.
SkillRequirements = dict[str, Annotated[int, Field(ge=1, le=5)]]


def _priority_value(value: object) -> object:
    """Priorities are written as names (normal, high, …) or plain integers."""
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        if value not in PRIORITY_LEVELS:
            raise ValueError(f"priority must be an integer or one of {sorted(PRIORITY_LEVELS)}, got {value!r}")
        return PRIORITY_LEVELS[value]
    return value


class MailboxConfig(_Strict):
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    queue: str = Field(min_length=1)
    priority: int = 0
    required_skills: SkillRequirements = Field(default_factory=dict)
    auto_acknowledge: bool = True
    response_time: str = "24 h"

    _priority_names = field_validator("priority", mode="before")(_priority_value)


class KeywordRuleConfig(_Strict):
    keywords: list[str] = Field(min_length=1)
    queue: str | None = None
    priority: int | None = None
    required_skills: SkillRequirements = Field(default_factory=dict)
    mailboxes: list[str] = Field(default_factory=list)

    _priority_names = field_validator("priority", mode="before")(_priority_value)


class ImapAccountConfig(_Strict):
    """A mailbox hosted elsewhere, polled over IMAP; its mail is routed like mail to `mailbox`."""

    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=993, ge=1, le=65535)
    tls: bool = True
    username: str = Field(min_length=1)
    # The password is read from this environment variable, never from the file.
    password_env: str = Field(min_length=1)
    folder: str = "INBOX"
    # Processed mail is moved here; empty means it is flagged \Seen and left in place.
    processed_folder: str = ""
    mailbox: str
    poll_interval_s: float = Field(default=60.0, gt=0)
    use_idle: bool = True

    def password(self) -> str:
        value = os.environ.get(self.password_env)
        if not value:
            raise SystemExit(
                f"EMAIL_GATEWAY_CONFIG: IMAP account {self.name!r} needs its password in ${self.password_env}"
            )
        return value


class GatewayConfig(_Strict):
    mailboxes: list[MailboxConfig] = Field(min_length=1)
    keyword_rules: list[KeywordRuleConfig] = Field(default_factory=list)
    imap_accounts: list[ImapAccountConfig] = Field(default_factory=list)
    # RFC 5321 size limit; larger mail is refused with 552.
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _imap_accounts_feed_known_mailboxes(self) -> GatewayConfig:
        known = {mailbox.address.lower() for mailbox in self.mailboxes}
        for account in self.imap_accounts:
            if account.mailbox.lower() not in known:
                raise ValueError(f"IMAP account {account.name!r} feeds {account.mailbox!r}, which is not a mailbox")
        return self

    def directory(self) -> MailboxDirectory:
        mailboxes = [
            Mailbox(
                address=m.address.lower(),
                queue=m.queue,
                priority=m.priority,
                required_skills=dict(m.required_skills),
                auto_acknowledge=m.auto_acknowledge,
                response_time=m.response_time,
            )
            for m in self.mailboxes
        ]
        rules = [
            KeywordRule(
                keywords=tuple(r.keywords),
                queue=r.queue,
                priority=r.priority,
                required_skills=dict(r.required_skills),
                mailboxes=frozenset(address.lower() for address in r.mailboxes),
            )
            for r in self.keyword_rules
        ]
        return MailboxDirectory(mailboxes, rules)


def load_gateway_config(path: Path) -> GatewayConfig:
    """Read and validate the YAML, or exit with a message naming the file and each problem."""
    try:
        return GatewayConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except OSError as error:
        raise SystemExit(f"EMAIL_GATEWAY_CONFIG: cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise SystemExit(f"EMAIL_GATEWAY_CONFIG: {path} is not valid YAML: {error}") from None
    except ValidationError as error:
        problems = "\n".join(f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise SystemExit(f"EMAIL_GATEWAY_CONFIG: {path} is invalid:\n{problems}") from None
