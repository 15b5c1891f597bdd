"""The journey's plain data: steps, offers and their outcomes, the SLA, one contact's timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.journey.domain.traces import SpanSummary


@dataclass(frozen=True)
class Decision:
    summary: str
    relaxation_step: str
    candidates_considered: int
    filtered_out: dict[str, int]
    chosen_agent_id: str
    score: float


@dataclass(frozen=True)
class Step:
    kind: str  # received | queued | offered | accepted | offer_timed_out | escalated | assigned | reply_sent | ...
    at: float
    since_previous_s: float | None
    since_received_s: float | None
    agent_id: str = ""
    offer_id: str = ""
    attempt: int = 0
    queue: str = ""
    priority: int = 0
    reason: str = ""
    disposition: str = ""
    decision: Decision | None = None
    needs_translation: bool = False


@dataclass(frozen=True)
class OfferOutcome:
    offer_id: str
    agent_id: str
    attempt: int
    offered_at: float
    outcome: str  # accepted | rejected | timed_out | rescinded | pending
    answered_at: float | None
    answer_s: float | None
    reason: str
    decision: Decision | None


@dataclass(frozen=True)
class Sla:
    deadline: float
    target_s: float | None
    answered_at: float | None
    status: str  # met | missed | pending


@dataclass(frozen=True)
class ContactJourney:
    contact_id: str
    conversation_id: str
    channel: str
    language: str
    queue: str
    priority: int
    state: str  # received (no routing event yet) | waiting | offered | assigned | completed | abandoned
    received_at: float | None
    steps: list[Step]
    offers: list[OfferOutcome]
    sla: Sla | None
    time_to_first_offer_s: float | None
    time_to_accept_s: float | None
    handle_time_s: float | None
    trace_ids: list[str] = field(default_factory=list)
    spans: list[SpanSummary] = field(default_factory=list)


@dataclass(frozen=True)
class Journey:
    query: str
    contacts: list[ContactJourney]
