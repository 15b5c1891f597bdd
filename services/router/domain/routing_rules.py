"""Queue selection: the first queue whose match rule fits the contact, else the policy's default queue."""

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


def select_queue(policy: RoutingPolicy, contact: ContactRequest) -> QueuePolicy:
    """Queues are tried in policy order; a hint naming a queue outright is honoured when no rule matched."""
    for queue in policy.queues:
        if any(rule_matches(rule, contact) for rule in queue.match):
            return queue
    hint = contact.queue_hint.lower()
    for queue in policy.queues:
        if queue.name == hint:
            return queue
    return policy.queue(policy.default_queue)


def required_skills(queue: QueuePolicy, contact: ContactRequest) -> dict[str, int]:
    """The queue's skills merged with the contact's own; the stricter minimum wins."""
    merged = dict(queue.required_skills)
    for skill, level in contact.required_skills.items():
        merged[skill] = max(level, merged.get(skill, 0))
    return merged
