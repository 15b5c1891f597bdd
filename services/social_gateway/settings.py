"""Environment settings and the YAML config (secrets, routing hints, limits) of the social gateway."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from contactrouting.config import DEFAULT_WEBHOOK_PORT, ServiceSettings
from contactrouting.database import check_database_url
from contactrouting.signing import MIN_SECRET_BYTES
from services.social_gateway.domain.delivery_policy import RetryPolicy
from services.social_gateway.domain.queue_rules import KeywordRule, QueueRules
from services.social_gateway.domain.replies import ReplyEndpoints

# The documented demo secrets: accepted only with DEMO_MODE=true, so a demo config never reaches production.
DEMO_SECRETS = frozenset({"demo-meta-secret", "demo-verify-token", "demo-telegram-secret", "demo-x-secret"})


class SocialGatewaySettings(ServiceSettings):
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=DEFAULT_WEBHOOK_PORT, ge=0, le=65535)
    social_gateway_config: Path = Path("config/social_gateway.yaml")
    demo_mode: bool = False
    # Verifies survey tickets (the router signs them with the same secret): rating links and chat answers.
    # Empty turns both off: /feedback answers 404 and chat messages are never taken as survey answers.
    feedback_token_secret: SecretStr = SecretStr("")
    # Dedupe keys and open surveys. Empty: SQLite files under DATA_DIR, right for one replica only. Several replicas
    # need a shared database (postgresql+psycopg://...), or a retry reaching another pod is published twice.
    social_gateway_database_url: SecretStr = SecretStr("")

    @field_validator("social_gateway_database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value():
            check_database_url(value.get_secret_value(), "SOCIAL_GATEWAY_DATABASE_URL")
        return value

    @field_validator("feedback_token_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"FEEDBACK_TOKEN_SECRET must be at least {MIN_SECRET_BYTES} bytes (or empty: surveys off)")
        return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramBot(_Section):
    secret_token: str = Field(min_length=1)
    # Bot API token for sendMessage; empty disables replies through this bot.
    api_token: str = ""
    queue: str | None = None


class TelegramConfig(_Section):
    api_base_url: str = "https://api.telegram.org"
    bots: dict[str, TelegramBot] = {}


class MetaSource(_Section):
    """A Facebook page, Instagram account or WhatsApp phone-number id that receives messages."""

    access_token: str = ""
    queue: str | None = None


class MetaConfig(_Section):
    app_secret: str = ""
    verify_token: str = ""
    graph_api_base_url: str = "https://graph.facebook.com/v21.0"
    sources: dict[str, MetaSource] = {}


class XAccount(_Section):
    access_token: str = ""
    queue: str | None = None


class XConfig(_Section):
    consumer_secret: str = ""
    api_base_url: str = "https://api.x.com"
    # Keyed by our own X user id: DMs sent by these ids are our replies, never contacts.
    accounts: dict[str, XAccount] = {}


class KeywordRuleConfig(_Section):
    queue: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)


class RoutingConfig(_Section):
    default_queue: str = "general"
    keyword_rules: list[KeywordRuleConfig] = []


class LimitsConfig(_Section):
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Token bucket per (endpoint, client address): sustained rate and burst.
    rate_per_s: float = Field(default=200.0, gt=0)
    rate_burst: int = Field(default=400, ge=1)
    # Platforms give up on slow webhooks; answer 503 well before they do, so they retry.
    publish_timeout_s: float = Field(default=5.0, gt=0)
    # Must outlast the platforms' retries (WhatsApp: up to 7 days); 0 turns the window off.
    replay_window_days: float = Field(default=7.0, ge=0)
    # At least the replay window, so a replay inside the window is still caught as a duplicate.
    dedupe_retention_days: float = Field(default=8.0, gt=0)

    @property
    def claim_lease_s(self) -> float:
        """How long an inbound claim blocks others: the producer gives up after publish_timeout_s; margin for skew."""
        return 3 * self.publish_timeout_s

    @model_validator(mode="after")
    def _dedupe_outlasts_replay_window(self) -> LimitsConfig:
        if self.replay_window_days and self.dedupe_retention_days < self.replay_window_days:
            raise ValueError("limits.dedupe_retention_days must be at least limits.replay_window_days")
        return self


class OutboundConfig(_Section):
    """Replies to the platforms' send APIs: retried with exponential backoff, or as long as Retry-After asks."""

    enabled: bool = True
    max_attempts: int = Field(default=5, ge=1)
    base_backoff_s: float = Field(default=0.5, gt=0)
    max_backoff_s: float = Field(default=30.0, gt=0)
    max_retry_after_s: float = Field(default=60.0, gt=0)
    request_timeout_s: float = Field(default=10.0, gt=0)

    @property
    def claim_lease_s(self) -> float:
        """How long a send claim blocks others: twice the longest a reply can take through all its attempts."""
        longest_wait_s = max(self.max_backoff_s, self.max_retry_after_s)
        return 2 * (self.max_attempts * self.request_timeout_s + (self.max_attempts - 1) * longest_wait_s)


class SocialGatewayConfig(_Section):
    telegram: TelegramConfig = TelegramConfig()
    meta: MetaConfig = MetaConfig()
    x: XConfig = XConfig()
    routing: RoutingConfig = RoutingConfig()
    limits: LimitsConfig = LimitsConfig()
    outbound: OutboundConfig = OutboundConfig()

    def reply_endpoints(self) -> ReplyEndpoints:
        return ReplyEndpoints(
            telegram_base_url=self.telegram.api_base_url,
            graph_base_url=self.meta.graph_api_base_url,
            x_base_url=self.x.api_base_url,
            telegram_tokens={bot_id: bot.api_token for bot_id, bot in self.telegram.bots.items()},
            meta_tokens={source_id: source.access_token for source_id, source in self.meta.sources.items()},
            x_tokens={account_id: account.access_token for account_id, account in self.x.accounts.items()},
        )

    def retry_policy(self) -> RetryPolicy:
        outbound = self.outbound
        return RetryPolicy(
            outbound.max_attempts, outbound.base_backoff_s, outbound.max_backoff_s, outbound.max_retry_after_s
        )

    def queue_rules(self) -> QueueRules:
        sources: dict[str, str] = {}
        for bot_id, bot in self.telegram.bots.items():
            if bot.queue:
                sources[f"telegram:{bot_id}"] = bot.queue
        for platform in ("messenger", "instagram", "whatsapp"):
            for source_id, source in self.meta.sources.items():
                if source.queue:
                    sources[f"{platform}:{source_id}"] = source.queue
        for account_id, account in self.x.accounts.items():
            if account.queue:
                sources[f"x:{account_id}"] = account.queue
        rules = tuple(
            KeywordRule(rule.queue, tuple(keyword.casefold() for keyword in rule.keywords))
            for rule in self.routing.keyword_rules
        )
        return QueueRules(self.routing.default_queue, sources, rules)

    def demo_secrets_in_use(self) -> list[str]:
        secrets = {
            "meta.app_secret": self.meta.app_secret,
            "meta.verify_token": self.meta.verify_token,
            "x.consumer_secret": self.x.consumer_secret,
        }
        secrets.update(
            {f"telegram.bots.{bot_id}.secret_token": bot.secret_token for bot_id, bot in self.telegram.bots.items()}
        )
        return sorted(name for name, value in secrets.items() if value in DEMO_SECRETS)


_ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def _expand_env(value: Any) -> Any:
    """Secrets stay out of the file: "${NAME}" in any string is replaced by that environment variable."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ValueError(f"config references unset environment variable {name}")
            return os.environ[name]

        return _ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, dict):
        return {key: _expand_env(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_env(item) for item in value]
    return value


def load_config(path: Path) -> SocialGatewayConfig:
    with path.open(encoding="utf-8") as file:
        raw = yaml.safe_load(file) or {}
    return SocialGatewayConfig.model_validate(_expand_env(raw))
