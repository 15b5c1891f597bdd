"""Translation of the Kafka contracts (ContactEvent, AgentProfile) into the engine's plain input data."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from contactrouting.v1 import agent_pb2, contact_pb2
from services.router.domain import AgentSpec, ContactRequest

UNDETERMINED_LANGUAGE = "und"


def channel_name(channel: int) -> str:
    """`CHANNEL_EMAIL` -> "email"; the engine and the policy speak lower-case channel names."""
    return contact_pb2.Channel.Name(channel).removeprefix("CHANNEL_").lower()  # type: ignore[arg-type]


def channel_enum(name: str) -> contact_pb2.Channel:
    return contact_pb2.Channel.Value(f"CHANNEL_{name.upper()}")  # type: ignore[return-value]


def primary_language(tag: str) -> str:
    """The BCP-47 primary subtag ("hr-HR" -> "hr"); routing does not distinguish regional variants."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary or UNDETERMINED_LANGUAGE


def seconds(timestamp: Timestamp) -> float:
    return timestamp.seconds + timestamp.nanos / 1e9


def timestamp(at: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(at * 1e9))
    return stamp


def contact_request(event: contact_pb2.ContactEvent, now: float) -> ContactRequest:
    """The routing-relevant view of a ContactEvent; a missing receive time counts as now."""
    return ContactRequest(
        contact_id=event.contact_id,
        conversation_id=event.conversation_id or event.contact_id,
        customer_id=event.customer.customer_id,
        channel=channel_name(event.channel),
        language=primary_language(event.language),
        queue_hint=event.queue.lower(),
        mailbox_or_page=(event.source.mailbox or event.source.page_id).lower(),
        text_for_rules=f"{event.subject}\n{event.body_text}",
        required_skills={req.skill: req.min_proficiency for req in event.required_skills},
        priority=event.priority,
        received_at=seconds(event.received_at) if event.HasField("received_at") else now,
    )


def contact_attributes(event: contact_pb2.ContactEvent) -> dict[str, str]:
    """What operators search a contact's spans by; ids only, never the customer's words or identity."""
    return {
        "contact.id": event.contact_id,
        "conversation.id": event.conversation_id or event.contact_id,
        "contact.channel": channel_name(event.channel),
        "contact.language": primary_language(event.language),
    }


def agent_spec(profile: agent_pb2.AgentProfile) -> AgentSpec:
    return AgentSpec(
        agent_id=profile.agent_id,
        skills={level.skill: level.proficiency for level in profile.skills},
        languages=frozenset(primary_language(level.language) for level in profile.languages),
        capacity={
            channel_name(cap.channel): cap.max_concurrent
            for cap in profile.capacity
            if cap.channel != contact_pb2.CHANNEL_UNSPECIFIED
        },
        queues=frozenset(profile.queues),
        active=profile.active,
    )
