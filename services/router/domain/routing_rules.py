"""Queue selection: the first queue (in policy order) with a matching rule, else a queue named by the hint, else
the policy's default queue. Rules that test only the queue hint are compiled into a lookup table, so the common
case costs one dict lookup instead of a pass over every rule."""

from __future__ import annotations

from services.router.domain.model import ContactRequest
from services.router.domain.policy import MatchRule, QueuePolicy, RoutingPolicy


def rule_matches(rule: MatchRule, contact: ContactRequest) -> bool:
    if rule.channels and contact.channel not in rule.channels:
        return False
    if rule.queue_hints and contact.queue_hint.lower() not in rule.queue_hints:
        return False
    if rule.mailboxes and contact.mailbox_or_page.lower() not in rule.mailboxes:
        return False
    if rule.keywords:
        text = contact.text_for_rules.lower()
        if not any(keyword in text for keyword in rule.keywords):
            return False
    return True


def _hint_only(rule: MatchRule) -> bool:
    return bool(rule.queue_hints) and not (rule.channels or rule.mailboxes or rule.keywords)


class QueueSelector:
    def __init__(self, policy: RoutingPolicy) -> None:
        self._queues = policy.queues
        # hint -> position of the first queue whose hint-only rule names it
        self._by_hint: dict[str, int] = {}
        # (position, rule) of every other rule, in policy order
        self._general: list[tuple[int, MatchRule]] = []
        for position, queue in enumerate(policy.queues):
            for rule in queue.match:
                if _hint_only(rule):
                    for hint in rule.queue_hints:
                        self._by_hint.setdefault(hint, position)
                else:
                    self._general.append((position, rule))
        self._named = {queue.name: queue for queue in policy.queues}
        self._default = self._named[policy.default_queue]

    def select(self, contact: ContactRequest) -> QueuePolicy:
        hint = contact.queue_hint.lower()
        first = self._by_hint.get(hint, len(self._queues))
        for position, rule in self._general:
            if position >= first:
                break
            if rule_matches(rule, contact):
                return self._queues[position]
        if first < len(self._queues):
            return self._queues[first]
        return self._named.get(hint, self._default)


def select_queue(policy: RoutingPolicy, contact: ContactRequest) -> QueuePolicy:
    return QueueSelector(policy).select(contact)


def required_skills(queue: QueuePolicy, contact: ContactRequest) -> dict[str, int]:
    """The queue's skills merged with the contact's own; the stricter minimum wins."""
    if not contact.required_skills:
        return queue.required_skills
    merged = dict(queue.required_skills)
    for skill, level in contact.required_skills.items():
        merged[skill] = max(level, merged.get(skill, 0))
    return merged
