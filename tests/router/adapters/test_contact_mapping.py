"""ContactEvent and AgentProfile as the engine's plain input data."""

from __future__ import annotations

from contactrouting.v1 import agent_pb2, contact_pb2
from services.router.adapters.contact_mapping import (
    agent_spec,
    channel_enum,
    channel_name,
    contact_request,
    primary_language,
    seconds,
    timestamp,
)


def test_channels_map_both_ways() -> None:
    for channel in ("email", "messenger", "instagram", "whatsapp", "telegram", "x"):
        assert channel_name(channel_enum(channel)) == channel


def test_languages_reduce_to_the_primary_subtag() -> None:
    assert [primary_language(tag) for tag in ("hr-HR", "EN_gb", "de", "", "  ")] == ["hr", "en", "de", "und", "und"]


def test_timestamps_round_trip_to_the_microsecond() -> None:
    assert abs(seconds(timestamp(1_764_000_000.123456)) - 1_764_000_000.123456) < 1e-6


def test_contact_request_carries_what_routing_rules_need() -> None:
    event = contact_pb2.ContactEvent(
        contact_id="c1",
        conversation_id="conv1",
        channel=contact_pb2.CHANNEL_WHATSAPP,
        customer=contact_pb2.Customer(customer_id="cust1"),
        subject="Invoice",
        body_text="Refund please",
        language="hr-HR",
        queue="Billing",
        required_skills=[contact_pb2.SkillRequirement(skill="billing", min_proficiency=3)],
        priority=2,
        source=contact_pb2.SourceRef(page_id="Page-9"),
        received_at=timestamp(100.5),
    )
    request = contact_request(event, now=999.0)
    assert (request.channel, request.language, request.queue_hint, request.mailbox_or_page) == (
        "whatsapp",
        "hr",
        "billing",
        "page-9",
    )
    assert request.text_for_rules == "Invoice\nRefund please"
    assert request.required_skills == {"billing": 3}
    assert (request.priority, request.received_at, request.customer_id) == (2, 100.5, "cust1")


def test_a_contact_without_receive_time_or_conversation_gets_sane_defaults() -> None:
    request = contact_request(contact_pb2.ContactEvent(contact_id="c2"), now=42.0)
    assert (request.received_at, request.conversation_id, request.language) == (42.0, "c2", "und")


def test_agent_spec_from_a_profile() -> None:
    profile = agent_pb2.AgentProfile(
        agent_id="ana",
        skills=[agent_pb2.SkillLevel(skill="general", proficiency=4)],
        languages=[agent_pb2.LanguageLevel(language="hr-HR", level=5), agent_pb2.LanguageLevel(language="en", level=3)],
        capacity=[
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_EMAIL, max_concurrent=5),
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_UNSPECIFIED, max_concurrent=9),
        ],
        queues=["general", "overflow"],
        active=True,
    )
    spec = agent_spec(profile)
    assert spec.skills == {"general": 4}
    assert spec.languages == frozenset({"hr", "en"})
    assert spec.capacity == {"email": 5}
    assert spec.queues == frozenset({"general", "overflow"})
    assert spec.active
