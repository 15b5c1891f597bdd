"""When a waiting contact next changes by itself: relaxation step, aging point, SLA at risk or breached, end of
the wait for its sticky agent, the close of its channel's reply window. One heap of due times, so a tick touches
only the contacts that are due."""

from __future__ import annotations

import heapq
import math

from services.router.domain.events import ContactEscalated
from services.router.domain.model import Contact, ContactState
from services.router.domain.policy import RelaxationStep, RoutingPolicy

SLA_AT_RISK = "sla_at_risk"
SLA_BREACHED = "sla_breached"


def at_risk_time(contact: Contact, policy: RoutingPolicy) -> float:
    target = contact.sla_deadline - contact.request.received_at
    return contact.sla_deadline - target * (1 - policy.escalation.at_risk_fraction)


def step_index_at(steps: tuple[RelaxationStep, ...], waited_s: float) -> int:
    index = -1
    for i, step in enumerate(steps):
        if waited_s >= step.after_s:
            index = i
    return index


def aging_boost_at(policy: RoutingPolicy, waited_s: float) -> int:
    aging = policy.aging
    return min(aging.max_boost, int(waited_s // aging.every_s) * aging.points)


def next_due(contact: Contact, policy: RoutingPolicy, steps: tuple[RelaxationStep, ...], now: float) -> float:
    """The earliest future time at which the contact's step, priority or sticky hold changes (inf if never)."""
    due = math.inf
    if contact.step_index + 1 < len(steps):
        due = min(due, contact.queued_at + steps[contact.step_index + 1].after_s)
    aging = policy.aging
    if aging.points and contact.aging_boost < aging.max_boost:
        periods = math.floor((now - contact.queued_at) / aging.every_s) + 1
        due = min(due, contact.queued_at + periods * aging.every_s)
    if SLA_AT_RISK not in contact.escalations:
        due = min(due, at_risk_time(contact, policy))
    if SLA_BREACHED not in contact.escalations:
        due = min(due, contact.sla_deadline)
    if contact.wait_for_preferred_until > now:
        due = min(due, contact.wait_for_preferred_until)
    return min(due, contact.abandon_at)


class ContactTimers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Contact]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, contact: Contact, due: float) -> None:
        """Wake the contact at `due`, as long as it is still waiting in the same filing (same version)."""
        if due == math.inf:
            return
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, contact.file_version, contact))

    def due(self, now: float) -> list[Contact]:
        """Waiting contacts whose time has come, in due order (one timer per filing, so each at most once)."""
        woken: list[Contact] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, version, contact = heapq.heappop(heap)
            if contact.state is ContactState.WAITING and contact.file_version == version:
                woken.append(contact)
        return woken


def advance(
    contact: Contact, policy: RoutingPolicy, steps: tuple[RelaxationStep, ...], now: float
) -> tuple[list[ContactEscalated], bool]:
    """Aging, SLA escalation (once per reason), relaxation step and end of a sticky wait, as of `now`.
    Returns the escalations and whether the contact's options widened (new step, or no longer held)."""
    events: list[ContactEscalated] = []
    waited = now - contact.queued_at
    contact.aging_boost = aging_boost_at(policy, waited)
    escalation = policy.escalation
    for reason, at, points in (
        (SLA_AT_RISK, at_risk_time(contact, policy), escalation.at_risk_boost),
        (SLA_BREACHED, contact.sla_deadline, escalation.breach_boost),
    ):
        if now >= at and reason not in contact.escalations:
            contact.escalations |= {reason}
            contact.escalation_boost += points
            events.append(ContactEscalated(contact.contact_id, reason, contact.priority, now))
    step_index = step_index_at(steps, waited)
    stepped = step_index != contact.step_index
    if stepped:
        contact.step_index = step_index
        contact.eligibility = None
    sticky_over = contact.preferred_agent is not None and 0 < contact.wait_for_preferred_until <= now
    if sticky_over:
        contact.wait_for_preferred_until = 0.0
    return events, stepped or sticky_over
