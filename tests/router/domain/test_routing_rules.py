"""Queue selection by rule: queue hint, keywords, channel, mailbox; else a hint naming a queue; else the default."""

from __future__ import annotations

from dataclasses import replace

from services.router.domain.routing_rules import required_skills, select_queue

from .builders import contact, make_policy


def test_queue_hint_selects_the_queue() -> None:
    policy = make_policy()
    assert select_queue(policy, contact(queue="vip")).name == "vip"
    assert select_queue(policy, contact(queue="BILLING")).name == "billing"


def test_keyword_rule_matches_text_case_insensitively() -> None:
    assert select_queue(make_policy(), contact(queue="", text="Where is my INVOICE?")).name == "billing"


def test_unmatched_contact_goes_to_the_default_queue() -> None:
    assert select_queue(make_policy(), contact(queue="unknown")).name == "general"


def test_every_criterion_of_a_rule_must_match() -> None:
    policy = make_policy(
        queues=[
            {"name": "general"},
            {"name": "social_de", "match": [{"channels": ["whatsapp"], "mailboxes": ["page-de"]}]},
        ]
    )
    whatsapp_de = replace(contact(queue="", channel="whatsapp"), mailbox_or_page="PAGE-DE")
    assert select_queue(policy, whatsapp_de).name == "social_de"
    assert select_queue(policy, replace(whatsapp_de, channel="telegram")).name == "general"
    assert select_queue(policy, replace(whatsapp_de, mailbox_or_page="page-hr")).name == "general"


def test_contact_skills_merge_with_queue_skills_taking_the_stricter_minimum() -> None:
    billing = make_policy().queue("billing")
    merged = required_skills(billing, contact(skills={"billing": 4, "refunds": 2}))
    assert merged == {"billing": 4, "refunds": 2}
    assert required_skills(billing, contact(skills={"billing": 1})) == {"billing": 3}
