"""Mailbox routing hints and keyword rules, read from the YAML config."""

from __future__ import annotations

from pathlib import Path

from services.email_gateway.config import GatewayConfig, load_gateway_config
from services.email_gateway.domain.mailboxes import PRIORITY_LEVELS, RoutingHint

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "email_gateway.yaml"


def test_the_demo_config_maps_the_three_mailboxes() -> None:
    directory = load_gateway_config(REPO_CONFIG).directory()
    for address, queue, priority in [
        ("support@example.com", "general", 0),
        ("billing@example.com", "billing", 0),
        ("vip@example.com", "vip", PRIORITY_LEVELS["high"]),
    ]:
        mailbox = directory.get(address)
        assert mailbox is not None
        assert directory.hint_for(mailbox, "hello") == RoutingHint(queue, priority, {})
    assert "SUPPORT@example.com" in directory
    assert "sales@example.com" not in directory


def test_keyword_rules_match_whole_words_case_insensitively_and_only_in_their_mailboxes() -> None:
    directory = load_gateway_config(REPO_CONFIG).directory()
    support, vip = directory.get("support@example.com"), directory.get("vip@example.com")
    assert support is not None and vip is not None
    assert directory.hint_for(support, "Pošaljite mi RAČUN za studeni").queue == "billing"
    assert directory.hint_for(support, "Problem s računom").queue == "general"  # another word, not the keyword
    assert directory.hint_for(vip, "invoice missing").queue == "vip"  # the billing rule is for support@ only
    assert directory.hint_for(support, "HITNO: ne radi").priority == PRIORITY_LEVELS["high"]


def test_a_rule_never_lowers_priority_and_adds_skills() -> None:
    config = GatewayConfig.model_validate(
        {
            "mailboxes": [{"address": "vip@example.com", "queue": "vip", "priority": "urgent"}],
            "keyword_rules": [{"keywords": ["refund"], "priority": "low", "required_skills": {"refunds": 3}}],
        }
    )
    directory = config.directory()
    vip = directory.get("vip@example.com")
    assert vip is not None
    assert directory.hint_for(vip, "a refund please") == RoutingHint("vip", PRIORITY_LEVELS["urgent"], {"refunds": 3})


def test_the_promise_quoted_is_that_of_the_queue_the_mail_went_to() -> None:
    directory = GatewayConfig.model_validate(
        {
            "mailboxes": [
                {"address": "support@example.com", "queue": "general", "response_time": "24 h"},
                {"address": "vip@example.com", "queue": "vip", "response_time": "1 h"},
            ],
            "keyword_rules": [{"keywords": ["urgent"], "queue": "vip"}, {"keywords": ["refund"], "queue": "refunds"}],
        }
    ).directory()
    support = directory.get("support@example.com")
    assert support is not None

    assert directory.response_time_for(support, "general") == "24 h"
    assert directory.response_time_for(support, directory.hint_for(support, "urgent: app down").queue) == "1 h"
    # A queue no mailbox of ours serves directly keeps the mailbox's own promise.
    assert directory.response_time_for(support, "refunds") == "24 h"
