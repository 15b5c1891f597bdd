"""Plain data the engine consumes (contacts, agent specs, presence) and the mutable state it keeps for each."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.router.domain.eligibility import Eligibility


class Presence(Enum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """One inbound contact to route, built by the adapter from a ContactEvent."""

    contact_id: str
    conversation_id: str
    customer_id: str
    channel: str
    language: str
    queue_hint: str
    mailbox_or_page: str
    text_for_rules: str
    required_skills: Mapping[str, int]
    priority: int
    received_at: float


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """An agent's profile, built by the adapter from an AgentProfile."""

    agent_id: str
    skills: Mapping[str, int]
    languages: frozenset[str]
    capacity: Mapping[str, int]
    queues: frozenset[str]
    active: bool
    # Sum of the per-channel capacities, for occupancy (derived, not passed in).
    total_capacity: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_capacity", sum(self.capacity.values()))


@dataclass(slots=True)
class Agent:
    """Live state of one agent: profile, presence, work in progress per channel, and when they last went idle."""

    spec: AgentSpec
    presence: Presence = Presence.OFFLINE
    presence_reason: str = ""
    # Contacts held per channel: assigned, in wrap-up, or reserved by the pending offer; and their sum.
    load: dict[str, int] = field(default_factory=dict)
    total_load: int = 0
    assigned: set[str] = field(default_factory=set)
    offer_id: str | None = None
    # Last time work was taken or released (or the agent came online): "longest idle" ranks by it.
    idle_since: float = 0.0
    # Contacts kept for the agent after a disconnect, until this time.
    grace_until: float | None = None
    # Channels the AgentIndex has filed the agent as ready on (owned by the index).
    ready_channels: frozenset[str] = frozenset()
    # A copy of spec.agent_id (which never changes for an agent): read on every hot path.
    agent_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.agent_id = self.spec.agent_id

    @property
    def occupancy(self) -> float:
        """Share of the agent's total capacity in use (1.0 when it has none)."""
        capacity = self.spec.total_capacity
        return self.total_load / capacity if capacity else 1.0

    def free(self, channel: str) -> int:
        return self.spec.capacity.get(channel, 0) - self.load.get(channel, 0)

    def take(self, channel: str, now: float) -> None:
        self.load[channel] = self.load.get(channel, 0) + 1
        self.total_load += 1
        self.idle_since = now

    def release(self, channel: str, now: float) -> None:
        self.total_load -= 1
        left = self.load.get(channel, 0) - 1
        if left > 0:
            self.load[channel] = left
        else:
            self.load.pop(channel, None)
        self.idle_since = now


class ContactState(Enum):
    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


@dataclass(slots=True)
class Contact:
    """A contact the router is responsible for, from queued to completed."""

    request: ContactRequest
    queue: str
    base_priority: int
    queued_at: float
    sla_deadline: float
    required_skills: dict[str, int]
    # When the channel stops letting us answer; still waiting then, the contact is abandoned.
    abandon_at: float = math.inf
    state: ContactState = ContactState.WAITING
    aging_boost: int = 0
    escalation_boost: int = 0
    step_index: int = -1
    agent_id: str | None = None
    offer_id: str | None = None
    attempts: int = 0
    # Agents that rejected or missed this contact; they are not asked again.
    declined_by: set[str] = field(default_factory=set)
    # Escalation reasons applied so far; replaced (not mutated) on the rare escalation, so the many contacts that
    # never escalate share the empty frozenset instead of holding an empty set each (216 bytes, tracked by the GC).
    escalations: frozenset[str] = frozenset()
    # Sticky routing: the previous agent and how long we wait for them.
    preferred_agent: str | None = None
    wait_for_preferred_until: float = 0.0
    seq: int = 0
    # Bumped whenever the contact is re-filed in or leaves the waiting room; older heap and timer entries are stale.
    file_version: int = 0
    # Requirements under the current relaxation step, cached until the step (or the policy) changes.
    eligibility: Eligibility | None = None

    @property
    def contact_id(self) -> str:
        return self.request.contact_id

    @property
    def channel(self) -> str:
        return self.request.channel

    @property
    def priority(self) -> int:
        return self.base_priority + self.aging_boost + self.escalation_boost

    def decline(self, agent_id: str) -> None:
        """The agent rejected or missed the contact and is not asked again. Requirements cached while nobody had
        declined are shared with other contacts (see eligibility_for), so they are rebuilt."""
        self.declined_by.add(agent_id)
        self.eligibility = None

    def order_key(self) -> tuple[int, float, int]:
        """Waiting contacts are served by priority, then SLA deadline, then arrival."""
        return (-self.priority, self.sla_deadline, self.seq)
