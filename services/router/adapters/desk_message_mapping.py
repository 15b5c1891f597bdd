"""Domain events as DeskMessages for the agent they concern, and desk presence to and from the engine's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contactrouting.v1 import agent_desk_pb2
from services.router.adapters.contact_mapping import seconds, timestamp
from services.router.domain import (
    CommandRejected,
    ContactAssigned,
    ContactCompleted,
    ContactRequeued,
    DomainEvent,
    OfferMade,
    OfferRescinded,
    OfferTimedOut,
    Presence,
    PresenceChanged,
)

if TYPE_CHECKING:
    from services.router.adapters.contact_book import ContactRecord

DeskMessage = agent_desk_pb2.DeskMessage


def presence_enum(presence: Presence) -> agent_desk_pb2.Presence:
    return agent_desk_pb2.Presence.Value(f"PRESENCE_{presence.name}")  # type: ignore[return-value]


def presence_from_enum(value: int) -> Presence | None:
    """The engine's presence for a desk enum value; None for PRESENCE_UNSPECIFIED and numbers the enum lacks
    (proto3 enums are open: a newer or broken client may send any number)."""
    if value not in agent_desk_pb2.Presence.values():
        return None
    name = agent_desk_pb2.Presence.Name(value).removeprefix("PRESENCE_")  # type: ignore[arg-type]
    return Presence.__members__.get(name)


def offer(event: OfferMade, record: ContactRecord, now: float) -> agent_desk_pb2.Offer:
    contact = record.event
    received_at = seconds(contact.received_at) if contact.HasField("received_at") else event.occurred_at
    return agent_desk_pb2.Offer(
        offer_id=event.offer_id,
        contact=contact,
        decision=record.decision,
        expires_at=timestamp(event.expires_at),
        waiting_ms=max(0, int((now - received_at) * 1000)),
        priority=record.priority,
        queue=record.queue,
        needs_translation=event.needs_translation,
    )


def assignment(record: ContactRecord) -> agent_desk_pb2.Assignment:
    return agent_desk_pb2.Assignment(contact_id=record.contact_id, contact=record.event, offer_id=record.offer_id)


def desk_message(event: DomainEvent, record: ContactRecord | None, now: float) -> tuple[str, DeskMessage] | None:
    """(agent_id, message) for an event an agent must hear about, else None."""
    match event:
        case OfferMade() if record is not None:
            return event.agent_id, DeskMessage(offer=offer(event, record, now))
        case ContactAssigned() if record is not None:
            return event.agent_id, DeskMessage(assignment=assignment(record))
        case OfferTimedOut():
            rescinded = agent_desk_pb2.OfferRescinded(offer_id=event.offer_id, reason="offer_timeout")
            return event.agent_id, DeskMessage(offer_rescinded=rescinded)
        case OfferRescinded():
            rescinded = agent_desk_pb2.OfferRescinded(offer_id=event.offer_id, reason=event.reason)
            return event.agent_id, DeskMessage(offer_rescinded=rescinded)
        case ContactCompleted():
            closed = agent_desk_pb2.ContactClosed(contact_id=event.contact_id, disposition=event.disposition)
            return event.agent_id, DeskMessage(contact_closed=closed)
        case ContactRequeued() if event.agent_id:
            closed = agent_desk_pb2.ContactClosed(contact_id=event.contact_id, disposition=f"requeued:{event.reason}")
            return event.agent_id, DeskMessage(contact_closed=closed)
        case PresenceChanged():
            changed = agent_desk_pb2.PresenceChanged(presence=presence_enum(event.presence), reason_code=event.reason)
            return event.agent_id, DeskMessage(presence_changed=changed)
        case CommandRejected():
            error = agent_desk_pb2.DeskError(code=event.code, message=event.message)
            return event.agent_id, DeskMessage(error=error)
    return None
