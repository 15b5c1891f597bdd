"""What the engine reports: immutable domain events the adapters turn into Kafka records and desk messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.router.domain.model import Presence


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a contact went to an agent: the explainable record carried by every offer."""

    candidates_considered: int
    filtered_out: Mapping[str, int]
    chosen_agent_id: str
    score: float
    score_components: Mapping[str, float]
    relaxation_step: str
    summary: str


@dataclass(frozen=True, slots=True)
class ContactQueued:
    contact_id: str
    queue: str
    priority: int
    sla_deadline: float
    relaxation_step: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class OfferMade:
    offer_id: str
    contact_id: str
    agent_id: str
    expires_at: float
    decision: Decision
    needs_translation: bool
    occurred_at: float
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    offer_id: str
    contact_id: str
    agent_id: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class ContactAssigned:
    contact_id: str
    agent_id: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class OfferRejected:
    offer_id: str
    contact_id: str
    agent_id: str
    reason: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class OfferTimedOut:
    offer_id: str
    contact_id: str
    agent_id: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class OfferRescinded:
    offer_id: str
    contact_id: str
    agent_id: str
    reason: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class ContactRequeued:
    contact_id: str
    reason: str
    occurred_at: float
    agent_id: str = ""


@dataclass(frozen=True, slots=True)
class ContactEscalated:
    contact_id: str
    reason: str
    priority: int
    occurred_at: float


@dataclass(frozen=True, slots=True)
class ContactAbandoned:
    """The contact left the queue unserved, e.g. its channel's reply window closed while it waited."""

    contact_id: str
    queue: str
    reason: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class ContactCompleted:
    contact_id: str
    agent_id: str
    disposition: str
    summary: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    agent_id: str
    presence: Presence
    reason: str
    occurred_at: float


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """A desk command that cannot apply; `code` is one of unknown_agent, unknown_offer, not_owner, unknown_contact."""

    agent_id: str
    code: str
    message: str
    occurred_at: float
    contact_id: str = ""


DomainEvent = (
    ContactQueued
    | OfferMade
    | OfferAccepted
    | ContactAssigned
    | OfferRejected
    | OfferTimedOut
    | OfferRescinded
    | ContactRequeued
    | ContactEscalated
    | ContactCompleted
    | ContactAbandoned
    | PresenceChanged
    | CommandRejected
)


@dataclass(frozen=True, slots=True)
class QueueStatsView:
    """Live figures for one queue, as RoutingAdmin.GetQueueStats reports them."""

    queue: str
    waiting: int
    longest_waiting_s: float
    average_time_to_accept_s: float
    offers_timed_out: int
    sla_attainment_percent: float
    # "skill:<name>" / "language:<tag>" -> available agents with free capacity in this queue's group.
    available_agents: Mapping[str, int] = field(default_factory=dict)
    estimated_wait_s: float = 0.0
