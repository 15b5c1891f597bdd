"""The queue hint for a message: keyword rules first, then the receiving page/bot/number, then the default."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class KeywordRule:
    queue: str
    keywords: tuple[str, ...]
    # Single words match whole words only ("bill" must not match "billion"); phrases match as substrings.
    _words: frozenset[str] = field(init=False, repr=False, compare=False)
    _phrases: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_words", frozenset(keyword for keyword in self.keywords if " " not in keyword))
        object.__setattr__(self, "_phrases", tuple(keyword for keyword in self.keywords if " " in keyword))

    def matches(self, words: frozenset[str], text: str) -> bool:
        return not self._words.isdisjoint(words) or any(phrase in text for phrase in self._phrases)


@dataclass(frozen=True, slots=True)
class QueueRules:
    default_queue: str
    # Keyed by "<platform>:<source id>", e.g. "telegram:demo-bot", "whatsapp:1234567890".
    source_queues: Mapping[str, str] = field(default_factory=dict)
    keyword_rules: Sequence[KeywordRule] = ()

    def queue_for(self, platform: str, source_id: str, text: str) -> str:
        lowered = text.casefold()
        words = frozenset(re.findall(r"\w+", lowered))
        for rule in self.keyword_rules:
            if rule.matches(words, lowered):
                return rule.queue
        return self.source_queues.get(f"{platform}:{source_id}", self.default_queue)
