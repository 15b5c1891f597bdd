"""Queue hints: keyword rules, then the receiving page or bot, then the default."""

from __future__ import annotations

from services.social_gateway.domain.queue_rules import KeywordRule, QueueRules

RULES = QueueRules(
    default_queue="general",
    source_queues={"whatsapp:PHONE": "vip"},
    keyword_rules=(KeywordRule("billing", ("račun", "invoice", "credit card")),),
)


def test_keywords_match_whole_words_case_insensitively() -> None:
    assert RULES.queue_for("telegram", "bot", "Problem s RAČUNOM? ne: Račun!") == "billing"
    assert RULES.queue_for("telegram", "bot", "Where is my INVOICE") == "billing"
    assert RULES.queue_for("telegram", "bot", "invoices are late") == "general"


def test_phrases_match_as_substrings() -> None:
    assert RULES.queue_for("x", "acct", "my credit card was charged twice") == "billing"


def test_source_queue_then_default() -> None:
    assert RULES.queue_for("whatsapp", "PHONE", "hello") == "vip"
    assert RULES.queue_for("messenger", "PHONE", "hello") == "general"
    assert RULES.queue_for("whatsapp", "PHONE", "invoice please") == "billing"
