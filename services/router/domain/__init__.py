"""The router's pure domain: policy, eligibility, matching, offers and the RoutingEngine state machine."""

from services.router.domain.engine import RoutingEngine
from services.router.domain.events import (
    CommandRejected,
    ContactAbandoned,
    ContactAssigned,
    ContactCompleted,
    ContactEscalated,
    ContactQueued,
    ContactRequeued,
    Decision,
    DomainEvent,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OfferRescinded,
    OfferTimedOut,
    PresenceChanged,
    QueueStatsView,
)
from services.router.domain.model import AgentSpec, ContactRequest, Presence
from services.router.domain.policy import PolicyError, RoutingPolicy, load_policy, parse_policy

__all__ = [
    "AgentSpec",
    "CommandRejected",
    "ContactAbandoned",
    "ContactAssigned",
    "ContactCompleted",
    "ContactEscalated",
    "ContactQueued",
    "ContactRequest",
    "ContactRequeued",
    "Decision",
    "DomainEvent",
    "OfferAccepted",
    "OfferMade",
    "OfferRejected",
    "OfferRescinded",
    "OfferTimedOut",
    "PolicyError",
    "Presence",
    "PresenceChanged",
    "QueueStatsView",
    "RoutingEngine",
    "RoutingPolicy",
    "load_policy",
    "parse_policy",
]
