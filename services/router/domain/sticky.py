"""Sticky routing history: the last agent who handled a conversation or a customer, and when."""

from __future__ import annotations

# Entries beyond this many are forgotten oldest-first, so the history stays bounded in a long-running router.
HISTORY_LIMIT = 500_000


class StickyHistory:
    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self._limit = limit
        self._by_conversation: dict[str, tuple[str, float]] = {}
        self._by_customer: dict[str, tuple[str, float]] = {}

    def remember(self, customer_id: str, conversation_id: str, agent_id: str, at: float) -> None:
        for table, key in ((self._by_conversation, conversation_id), (self._by_customer, customer_id)):
            if not key:
                continue
            previous = table.pop(key, None)
            if previous is not None and previous[1] > at:
                table[key] = previous  # recovery may replay older facts after newer ones
                continue
            table[key] = (agent_id, at)
            if len(table) > self._limit:
                del table[next(iter(table))]

    def previous_agent(self, conversation_id: str, customer_id: str, since: float) -> str | None:
        """The conversation's last agent, else the customer's, if they handled it at or after `since`."""
        for table, key in ((self._by_conversation, conversation_id), (self._by_customer, customer_id)):
            entry = table.get(key) if key else None
            if entry is not None and entry[1] >= since:
                return entry[0]
        return None
