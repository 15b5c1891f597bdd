"""Which mailboxes we accept mail for, and the routing hints each message gets from its mailbox and keywords."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PRIORITY_LEVELS: Mapping[str, int] = {"low": -5, "normal": 0, "high": 5, "urgent": 10}


@dataclass(frozen=True)
class Mailbox:
    address: str
    queue: str
    priority: int = 0
    required_skills: Mapping[str, int] = field(default_factory=dict)
    auto_acknowledge: bool = True
    # Promised first response, e.g. "24 h"; quoted in the auto-acknowledgement.
    response_time: str = ""


@dataclass(frozen=True)
class KeywordRule:
    """When any keyword occurs as a word in subject or new text, the hint is overridden."""

    keywords: tuple[str, ...]
    queue: str | None = None
    priority: int | None = None
    required_skills: Mapping[str, int] = field(default_factory=dict)
    # Empty means every mailbox.
    mailboxes: frozenset[str] = frozenset()
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = "|".join(re.escape(word.casefold()) for word in self.keywords)
        object.__setattr__(self, "_pattern", re.compile(rf"(?<!\w)(?:{words})(?!\w)"))

    def matches(self, mailbox: str, text: str) -> bool:
        if self.mailboxes and mailbox not in self.mailboxes:
            return False
        return self._pattern.search(text.casefold()) is not None


@dataclass(frozen=True)
class RoutingHint:
    queue: str
    priority: int
    required_skills: Mapping[str, int]


class MailboxDirectory:
    def __init__(self, mailboxes: Sequence[Mailbox], rules: Sequence[KeywordRule] = ()) -> None:
        self._mailboxes = {mailbox.address.lower(): mailbox for mailbox in mailboxes}
        self._rules = tuple(rules)
        # A queue's promise is its own mailbox's (the first one routing to it).
        self._response_times: dict[str, str] = {}
        for mailbox in mailboxes:
            self._response_times.setdefault(mailbox.queue, mailbox.response_time)

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and address.lower() in self._mailboxes

    def get(self, address: str) -> Mailbox | None:
        return self._mailboxes.get(address.lower())

    def response_time_for(self, mailbox: Mailbox, queue: str) -> str:
        """The first response promised for mail to `mailbox` that went to `queue`: a keyword rule that moved it
        to another queue (a refund written to support@ goes to billing) makes it that queue's promise."""
        if queue == mailbox.queue:
            return mailbox.response_time
        return self._response_times.get(queue, mailbox.response_time)

    def hint_for(self, mailbox: Mailbox, text: str) -> RoutingHint:
        """The mailbox's hint; the first matching keyword rule overrides what it names, priority only upwards."""
        hint = RoutingHint(mailbox.queue, mailbox.priority, dict(mailbox.required_skills))
        for rule in self._rules:
            if rule.matches(mailbox.address, text):
                return RoutingHint(
                    queue=rule.queue or hint.queue,
                    priority=max(hint.priority, rule.priority) if rule.priority is not None else hint.priority,
                    required_skills={**hint.required_skills, **rule.required_skills},
                )
        return hint
