"""Builders for router domain tests: a small explicit policy, contacts and agents with sensible defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.router.domain import AgentSpec, ContactRequest, RoutingEngine, RoutingPolicy, parse_policy

T0 = 1_700_000_000.0


def policy_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "default_queue": "general",
        "languages": ["en", "hr", "sk", "de"],
        "offer_timeout_s": 20,
        "max_offer_attempts": 3,
        "disconnect_grace_s": 120,
        "sticky": {"enabled": True, "window_s": 3600, "wait_for_previous_s": 30},
        "aging": {"every_s": 120, "points": 1, "max_boost": 5},
        "escalation": {"at_risk_fraction": 0.8, "at_risk_boost": 2, "breach_boost": 5},
        "relaxation": [
            {"name": "lower_proficiency", "after_s": 60, "lower_min_proficiency_by": 1},
            {"name": "overflow", "after_s": 300, "add_groups": ["overflow"]},
            {"name": "fallback_language", "after_s": 600, "fallback_languages": ["en"]},
        ],
        "queues": [
            {
                "name": "vip",
                "match": [{"queue_hints": ["vip"]}],
                "required_skills": {"vip": 1},
                "priority": 10,
                "sla_s": {"default": 900},
            },
            {
                "name": "billing",
                "match": [{"queue_hints": ["billing"]}, {"keywords": ["invoice"]}],
                "required_skills": {"billing": 3},
                "priority": 5,
                "sla_s": {"email": 86400, "social": 3600},
                "scoring": "least_occupied",
            },
            {
                "name": "general",
                "match": [{"queue_hints": ["general"]}],
                "required_skills": {"general": 1},
                "sla_s": {"email": 86400, "social": 3600},
            },
        ],
    }
    data.update(overrides)
    return data


def make_policy(**overrides: Any) -> RoutingPolicy:
    return parse_policy(policy_data(**overrides))


def contact(
    contact_id: str = "c1",
    *,
    queue: str = "general",
    channel: str = "email",
    language: str = "en",
    customer: str | None = None,
    conversation: str | None = None,
    skills: Mapping[str, int] | None = None,
    priority: int = 0,
    received_at: float = T0,
    text: str = "",
) -> ContactRequest:
    return ContactRequest(
        contact_id=contact_id,
        conversation_id=conversation or f"conv-{contact_id}",
        customer_id=customer or f"cust-{contact_id}",
        channel=channel,
        language=language,
        queue_hint=queue,
        mailbox_or_page="support@example.com",
        text_for_rules=text,
        required_skills=dict(skills or {}),
        priority=priority,
        received_at=received_at,
    )


def agent(
    agent_id: str = "a1",
    *,
    skills: Mapping[str, int] | None = None,
    languages: tuple[str, ...] = ("en",),
    capacity: Mapping[str, int] | None = None,
    queues: tuple[str, ...] = ("general",),
    active: bool = True,
) -> AgentSpec:
    return AgentSpec(
        agent_id=agent_id,
        skills=dict(skills if skills is not None else {"general": 3, "billing": 3, "vip": 3}),
        languages=frozenset(languages),
        capacity=dict(capacity if capacity is not None else {"email": 2, "whatsapp": 1}),
        queues=frozenset(queues),
        active=active,
    )


def online(engine: RoutingEngine, *specs: AgentSpec, now: float = T0) -> list[Any]:
    events: list[Any] = []
    for spec in specs:
        events += engine.upsert_agent(spec, now)
        events += engine.agent_connected(spec.agent_id, now)
    return events


def of_type(events: Sequence[object], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
