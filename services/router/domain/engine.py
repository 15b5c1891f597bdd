"""The routing engine: a single-threaded state machine over agents, waiting contacts and offers.

No I/O, no clock, no randomness: every call takes `now` and returns the domain events it caused. Two invariants
drive the matching in both directions: whenever a contact starts waiting it looks for the best eligible agent, and
whenever an agent gains room (available, capacity freed, offer answered) it pulls the best waiting contact it may
take. So no eligible agent sits idle while a contact it may take waits (except a contact held for its sticky agent).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from services.router.domain.eligibility import Eligibility, eligibility_for
from services.router.domain.events import (
    CommandRejected,
    ContactAssigned,
    ContactCompleted,
    ContactEscalated,
    ContactQueued,
    ContactRequeued,
    DomainEvent,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OfferRescinded,
    OfferTimedOut,
    PresenceChanged,
    QueueStatsView,
)
from services.router.domain.matching import Match, choose_agent, pulled_decision
from services.router.domain.model import Agent, AgentSpec, Contact, ContactRequest, ContactState, Presence
from services.router.domain.offers import Offer, OfferBook
from services.router.domain.policy import QueuePolicy, RelaxationStep, RoutingPolicy
from services.router.domain.queues import WaitingRoom
from services.router.domain.routing_rules import required_skills, select_queue
from services.router.domain.stats import QueueStatistics
from services.router.domain.sticky import StickyHistory

# Completed contact ids remembered for is_known() (redelivered inbound records must not route twice).
FINISHED_MEMORY = 1_000_000


class RoutingEngine:
    def __init__(self, policy: RoutingPolicy) -> None:
        self._policy = policy
        self._agents: dict[str, Agent] = {}
        self._members: dict[str, set[str]] = {}
        self._contacts: dict[str, Contact] = {}
        self._finished: dict[str, None] = {}
        self._waiting = WaitingRoom()
        self._offers = OfferBook()
        self._stats = QueueStatistics()
        self._sticky = StickyHistory()
        self._wrap_ups: list[tuple[float, int, str, str]] = []
        # Offline agents whose accepted contacts are held for them until their grace period ends.
        self._in_grace: set[str] = set()
        self._seq = 0

    # ----------------------------------------------------------------------------------------------- policy
    @property
    def policy(self) -> RoutingPolicy:
        return self._policy

    def replace_policy(self, policy: RoutingPolicy) -> None:
        """Hot reload: contacts keep their queue (or fall back to the default one if it disappeared)."""
        self._policy = policy
        names = {q.name for q in policy.queues}
        for contact in self._contacts.values():
            if contact.queue not in names:
                self._waiting.discard(contact)
                contact.queue = policy.default_queue
            if contact.state is ContactState.WAITING:
                self._file(contact)

    def _queue_policy(self, contact: Contact) -> QueuePolicy:
        return self._policy.queue(contact.queue)

    def _steps(self, contact: Contact) -> tuple[RelaxationStep, ...]:
        return self._policy.steps_for(self._queue_policy(contact))

    def _eligibility(self, contact: Contact) -> Eligibility:
        return eligibility_for(contact, self._steps(contact))

    # ----------------------------------------------------------------------------------------------- agents
    def upsert_agent(self, spec: AgentSpec, now: float) -> list[DomainEvent]:
        agent = self._agents.get(spec.agent_id)
        if agent is None:
            agent = self._agents[spec.agent_id] = Agent(spec=spec, idle_since=now)
        else:
            self._unindex(agent)
            agent.spec = spec
        for group in spec.queues:
            self._members.setdefault(group, set()).add(spec.agent_id)
        events: list[DomainEvent] = []
        if agent.offer_id is not None and not self._offer_still_fits(agent, now):
            events += self._rescind(agent, "agent_profile_changed", now)
        return events + self._pull(agent, now)

    def _offer_still_fits(self, agent: Agent, now: float) -> bool:
        """Whether the agent, as now profiled, could still be offered its pending contact."""
        offer = self._offers.get(agent.offer_id) if agent.offer_id else None
        if offer is None:
            return False
        contact = self._contacts[offer.contact_id]
        agent.offer_id = None
        agent.load[contact.channel] -= 1  # look past the reservation the offer itself holds
        fits = self._eligibility(contact).rejection(agent) is None
        agent.load[contact.channel] += 1
        agent.offer_id = offer.offer_id
        return fits

    def remove_agent(self, agent_id: str, now: float) -> list[DomainEvent]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return []
        # Out of every index first, so nothing below can route back to this agent.
        agent.presence = Presence.OFFLINE
        self._unindex(agent)
        self._in_grace.discard(agent_id)
        events = self._rescind(agent, "agent_removed", now) if agent.offer_id else []
        for contact_id in sorted(agent.assigned):
            events += self._requeue(self._contacts[contact_id], "agent_removed", now)
        del self._agents[agent_id]
        return events

    def _unindex(self, agent: Agent) -> None:
        for group in agent.spec.queues:
            members = self._members.get(group)
            if members is not None:
                members.discard(agent.agent_id)

    def agent_connected(self, agent_id: str, now: float) -> list[DomainEvent]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return [CommandRejected(agent_id, "unknown_agent", "no profile for this agent", now)]
        agent.idle_since = now
        return self._set_presence(agent, Presence.AVAILABLE, "connected", now)

    def agent_disconnected(self, agent_id: str, now: float) -> list[DomainEvent]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return []
        return self._set_presence(agent, Presence.OFFLINE, "disconnected", now)

    def set_presence(self, agent_id: str, presence: Presence, reason: str, now: float) -> list[DomainEvent]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return [CommandRejected(agent_id, "unknown_agent", "no profile for this agent", now)]
        return self._set_presence(agent, presence, reason, now)

    def _set_presence(self, agent: Agent, presence: Presence, reason: str, now: float) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        if agent.presence is not presence or agent.presence_reason != reason:
            events.append(PresenceChanged(agent.agent_id, presence, reason, now))
        agent.presence = presence
        agent.presence_reason = reason
        if presence is Presence.AVAILABLE:
            agent.grace_until = None
            self._in_grace.discard(agent.agent_id)
            return events + self._pull(agent, now)
        if agent.offer_id is not None:
            events += self._rescind(agent, "agent_offline" if presence is Presence.OFFLINE else "agent_away", now)
        if presence is Presence.OFFLINE and agent.assigned and agent.grace_until is None:
            agent.grace_until = now + self._policy.disconnect_grace_s
            self._in_grace.add(agent.agent_id)
            if self._policy.disconnect_grace_s == 0:
                events += self._expire_grace(agent, now)
        return events

    def assignments_of(self, agent_id: str) -> list[str]:
        agent = self._agents.get(agent_id)
        return sorted(agent.assigned) if agent else []

    # ----------------------------------------------------------------------------------------------- contacts
    def is_known(self, contact_id: str) -> bool:
        return contact_id in self._contacts or contact_id in self._finished

    def _admit(self, request: ContactRequest, queued_at: float) -> Contact:
        queue = select_queue(self._policy, request)
        self._seq += 1
        contact = Contact(
            request=request,
            queue=queue.name,
            base_priority=queue.priority + request.priority,
            queued_at=queued_at,
            sla_deadline=request.received_at + queue.sla_for(request.channel),
            required_skills=required_skills(queue, request),
            seq=self._seq,
        )
        self._contacts[request.contact_id] = contact
        return contact

    def enqueue(self, contact: ContactRequest, now: float) -> list[DomainEvent]:
        if self.is_known(contact.contact_id):
            return []
        state = self._admit(contact, now)
        self._refresh_step(state, now)
        self._prefer_previous_agent(state, now)
        events: list[DomainEvent] = [
            ContactQueued(
                state.contact_id,
                state.queue,
                state.priority,
                state.sla_deadline,
                self._eligibility(state).step_name,
                now,
            )
        ]
        return events + self._route(state, now)

    def _prefer_previous_agent(self, contact: Contact, now: float) -> None:
        sticky = self._policy.sticky
        if not sticky.enabled:
            return
        request = contact.request
        previous = self._sticky.previous_agent(request.conversation_id, request.customer_id, now - sticky.window_s)
        agent = self._agents.get(previous) if previous else None
        if agent is None or not agent.spec.active:
            return
        contact.preferred_agent = agent.agent_id
        if agent.presence is not Presence.OFFLINE:
            contact.wait_for_preferred_until = now + sticky.wait_for_previous_s

    def restore_waiting(self, contact: ContactRequest, queued_at: float) -> None:
        if self.is_known(contact.contact_id):
            return
        state = self._admit(contact, queued_at)
        self._file(state)

    def restore_assigned(self, contact: ContactRequest, agent_id: str, assigned_at: float) -> None:
        """A contact an agent had accepted before the restart; their agent gets the disconnect grace period."""
        if self.is_known(contact.contact_id):
            return
        state = self._admit(contact, assigned_at)
        agent = self._agents.get(agent_id)
        if agent is None:
            placeholder = AgentSpec(agent_id, {}, frozenset(), {}, frozenset(), active=False)
            agent = self._agents[agent_id] = Agent(spec=placeholder, idle_since=assigned_at)
        state.state = ContactState.ASSIGNED
        state.agent_id = agent_id
        agent.assigned.add(state.contact_id)
        agent.take(state.channel, assigned_at)
        if agent.presence is Presence.OFFLINE and agent.grace_until is None:
            # The grace period starts at the first tick, when the engine first sees the clock.
            agent.grace_until = float("-inf")
            self._in_grace.add(agent_id)
        self._sticky.remember(contact.customer_id, contact.conversation_id, agent_id, assigned_at)

    def remember_handled(self, customer_id: str, conversation_id: str, agent_id: str, at: float) -> None:
        self._sticky.remember(customer_id, conversation_id, agent_id, at)

    # ----------------------------------------------------------------------------------------------- matching
    def _candidates(self, groups: frozenset[str]) -> Iterator[Agent]:
        seen: set[str] = set()
        for group in sorted(groups):
            for agent_id in self._members.get(group, ()):
                if agent_id not in seen:
                    seen.add(agent_id)
                    yield self._agents[agent_id]

    def _waiting_for_preferred(self, contact: Contact, now: float) -> bool:
        """Sticky wait: the contact waits a while for its previous agent while that agent is online."""
        if contact.preferred_agent is None or now >= contact.wait_for_preferred_until:
            return False
        preferred = self._agents.get(contact.preferred_agent)
        return preferred is not None and preferred.presence is not Presence.OFFLINE

    def _held_for_other(self, contact: Contact, agent: Agent, now: float) -> bool:
        return contact.preferred_agent != agent.agent_id and self._waiting_for_preferred(contact, now)

    def _route(self, contact: Contact, now: float) -> list[DomainEvent]:
        """Offer a waiting contact to its best eligible agent, or file it in the waiting room."""
        eligibility = self._eligibility(contact)
        scoring = self._queue_policy(contact).scoring
        preferred = self._agents.get(contact.preferred_agent) if contact.preferred_agent else None
        if preferred is not None:
            sticky_match, _, _ = choose_agent([preferred], eligibility, scoring, preferred.agent_id, now)
            if sticky_match is not None:
                return self._offer(contact, sticky_match, now)
            if self._waiting_for_preferred(contact, now):
                self._file(contact)
                return []
        match, _, _ = choose_agent(
            self._candidates(eligibility.groups),
            eligibility,
            scoring,
            contact.preferred_agent,
            now,
        )
        if match is None:
            self._file(contact)
            return []
        return self._offer(contact, match, now)

    def _file(self, contact: Contact) -> None:
        contact.state = ContactState.WAITING
        self._waiting.put(contact, self._eligibility(contact).groups)

    def _pull(self, agent: Agent, now: float) -> list[DomainEvent]:
        """An agent with room takes the first waiting contact (priority, SLA deadline, arrival) they may take."""
        if agent.presence is not Presence.AVAILABLE or not agent.spec.active or agent.offer_id is not None:
            return []
        if not any(agent.free(channel) > 0 for channel in agent.spec.capacity):
            return []
        eligibilities: dict[str, Eligibility] = {}

        def accepts(contact: Contact) -> bool:
            if self._held_for_other(contact, agent, now):
                return False
            eligibility = self._eligibility(contact)
            eligibilities[contact.contact_id] = eligibility
            return eligibility.rejection(agent) is None

        contact = self._waiting.best(sorted(agent.spec.queues), accepts)
        if contact is None:
            return []
        eligibility = eligibilities[contact.contact_id]
        sticky = contact.preferred_agent == agent.agent_id
        match = pulled_decision(agent, eligibility, self._queue_policy(contact).scoring, sticky, now)
        return self._offer(contact, match, now)

    # ----------------------------------------------------------------------------------------------- offers
    def _offer(self, contact: Contact, match: Match, now: float) -> list[DomainEvent]:
        agent = match.agent
        self._waiting.discard(contact)
        offer = Offer(
            offer_id=self._offers.next_id(contact.contact_id),
            contact_id=contact.contact_id,
            agent_id=agent.agent_id,
            made_at=now,
            expires_at=now + self._policy.offer_timeout_s,
            needs_translation=match.needs_translation,
        )
        self._offers.add(offer)
        contact.state = ContactState.OFFERED
        contact.offer_id = offer.offer_id
        contact.attempts += 1
        contact.offered_at = now
        agent.offer_id = offer.offer_id
        agent.take(contact.channel, now)
        return [
            OfferMade(
                offer.offer_id,
                contact.contact_id,
                agent.agent_id,
                offer.expires_at,
                match.decision,
                match.needs_translation,
                now,
                contact.attempts,
            )
        ]

    def _owned_offer(self, agent_id: str, offer_id: str, now: float) -> Offer | CommandRejected:
        if agent_id not in self._agents:
            return CommandRejected(agent_id, "unknown_agent", "no profile for this agent", now)
        offer = self._offers.get(offer_id)
        if offer is None:
            return CommandRejected(agent_id, "unknown_offer", "the offer expired, was rescinded or never existed", now)
        if offer.agent_id != agent_id:
            return CommandRejected(agent_id, "not_owner", "the offer belongs to another agent", now)
        return offer

    def _close_offer(self, offer: Offer, now: float) -> tuple[Contact, Agent]:
        """Retire a pending offer and give the agent back the capacity it reserved."""
        self._offers.pop(offer.offer_id)
        contact = self._contacts[offer.contact_id]
        agent = self._agents[offer.agent_id]
        contact.offer_id = None
        agent.offer_id = None
        agent.release(contact.channel, now)
        return contact, agent

    def accept(self, agent_id: str, offer_id: str, now: float) -> list[DomainEvent]:
        offer = self._owned_offer(agent_id, offer_id, now)
        if isinstance(offer, CommandRejected):
            return [offer]
        self._offers.pop(offer_id)
        contact = self._contacts[offer.contact_id]
        agent = self._agents[agent_id]
        agent.offer_id = None
        contact.offer_id = None
        contact.state = ContactState.ASSIGNED
        contact.agent_id = agent_id
        agent.assigned.add(contact.contact_id)
        self._stats.accepted(contact.queue, now - contact.queued_at, now <= contact.sla_deadline, now)
        request = contact.request
        self._sticky.remember(request.customer_id, request.conversation_id, agent_id, now)
        events: list[DomainEvent] = [
            OfferAccepted(offer_id, contact.contact_id, agent_id, now),
            ContactAssigned(contact.contact_id, agent_id, now),
        ]
        return events + self._pull(agent, now)

    def reject(self, agent_id: str, offer_id: str, reason: str, now: float) -> list[DomainEvent]:
        offer = self._owned_offer(agent_id, offer_id, now)
        if isinstance(offer, CommandRejected):
            return [offer]
        contact, agent = self._close_offer(offer, now)
        contact.declined_by.add(agent_id)
        events: list[DomainEvent] = [OfferRejected(offer_id, contact.contact_id, agent_id, reason, now)]
        events += self._retry(contact, now)
        return events + self._pull(agent, now)

    def _rescind(self, agent: Agent, reason: str, now: float) -> list[DomainEvent]:
        offer = self._offers.get(agent.offer_id) if agent.offer_id else None
        if offer is None:
            agent.offer_id = None
            return []
        contact, _ = self._close_offer(offer, now)
        events: list[DomainEvent] = [OfferRescinded(offer.offer_id, contact.contact_id, agent.agent_id, reason, now)]
        return events + self._route(contact, now)

    def _retry(self, contact: Contact, now: float) -> list[DomainEvent]:
        """After a reject or timeout: re-offer, escalating once the attempts are used up."""
        events: list[DomainEvent] = []
        if contact.attempts >= self._policy.max_offer_attempts:
            contact.attempts = 0
            contact.declined_by.clear()
            if "offer_attempts_exhausted" not in contact.escalations:
                contact.escalations.add("offer_attempts_exhausted")
                contact.escalation_boost += self._policy.escalation.breach_boost
            events.append(ContactEscalated(contact.contact_id, "offer_attempts_exhausted", contact.priority, now))
        return events + self._route(contact, now)

    # ----------------------------------------------------------------------------------------------- work
    def complete(self, agent_id: str, contact_id: str, disposition: str, summary: str, now: float) -> list[DomainEvent]:
        contact = self._contacts.get(contact_id)
        if agent_id not in self._agents:
            return [CommandRejected(agent_id, "unknown_agent", "no profile for this agent", now, contact_id)]
        if contact is None:
            return [CommandRejected(agent_id, "unknown_contact", "no such contact in progress", now, contact_id)]
        if contact.state is not ContactState.ASSIGNED or contact.agent_id != agent_id:
            return [
                CommandRejected(agent_id, "not_owner", "the contact is not assigned to this agent", now, contact_id)
            ]
        agent = self._agents[agent_id]
        agent.assigned.discard(contact_id)
        contact.state = ContactState.COMPLETED
        del self._contacts[contact_id]
        self._remember_finished(contact_id)
        request = contact.request
        self._sticky.remember(request.customer_id, request.conversation_id, agent_id, now)
        events: list[DomainEvent] = [ContactCompleted(contact_id, agent_id, disposition, summary, now)]
        if self._policy.wrap_up_s > 0:
            self._seq += 1
            heapq.heappush(self._wrap_ups, (now + self._policy.wrap_up_s, self._seq, agent_id, contact.channel))
            return events
        agent.release(contact.channel, now)
        return events + self._pull(agent, now)

    def _remember_finished(self, contact_id: str) -> None:
        self._finished[contact_id] = None
        if len(self._finished) > FINISHED_MEMORY:
            del self._finished[next(iter(self._finished))]

    def _requeue(self, contact: Contact, reason: str, now: float) -> list[DomainEvent]:
        agent_id = contact.agent_id or ""
        agent = self._agents.get(agent_id)
        if agent is not None:
            agent.assigned.discard(contact.contact_id)
            agent.release(contact.channel, now)
        contact.agent_id = None
        contact.attempts = 0
        contact.preferred_agent = None
        contact.state = ContactState.WAITING
        events: list[DomainEvent] = [ContactRequeued(contact.contact_id, reason, now, agent_id)]
        return events + self._route(contact, now)

    def _expire_grace(self, agent: Agent, now: float) -> list[DomainEvent]:
        agent.grace_until = None
        self._in_grace.discard(agent.agent_id)
        events: list[DomainEvent] = []
        for contact_id in sorted(agent.assigned):
            events += self._requeue(self._contacts[contact_id], "agent_disconnected", now)
        return events

    # ----------------------------------------------------------------------------------------------- time
    def tick(self, now: float) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for offer in self._offers.expired(now):
            events += self._time_out(offer, now)
        while self._wrap_ups and self._wrap_ups[0][0] <= now:
            _, _, agent_id, channel = heapq.heappop(self._wrap_ups)
            agent = self._agents.get(agent_id)
            if agent is not None:
                agent.release(channel, now)
                events += self._pull(agent, now)
        for agent_id in sorted(self._in_grace):
            agent = self._agents[agent_id]
            if agent.grace_until is None or agent.presence is not Presence.OFFLINE:
                continue
            if agent.grace_until == float("-inf"):
                agent.grace_until = now + self._policy.disconnect_grace_s
            if agent.grace_until <= now:
                events += self._expire_grace(agent, now)
        for contact in list(self._waiting.all()):
            if contact.state is ContactState.WAITING:
                events += self._advance(contact, now)
        return events

    def _time_out(self, offer: Offer, now: float) -> list[DomainEvent]:
        # expired() already removed the offer from the book; release what it held.
        contact = self._contacts[offer.contact_id]
        agent = self._agents[offer.agent_id]
        contact.offer_id = None
        agent.offer_id = None
        agent.release(contact.channel, now)
        contact.declined_by.add(agent.agent_id)
        self._stats.timed_out(contact.queue)
        events: list[DomainEvent] = [OfferTimedOut(offer.offer_id, contact.contact_id, agent.agent_id, now)]
        events += self._set_presence(agent, Presence.AWAY, "missed_offer", now)
        return events + self._retry(contact, now)

    def _refresh_step(self, contact: Contact, now: float) -> bool:
        """Move the contact to the latest relaxation step its waiting time has reached; True when it moved."""
        waited = now - contact.queued_at
        index = -1
        for i, step in enumerate(self._steps(contact)):
            if waited >= step.after_s:
                index = i
        if index == contact.step_index:
            return False
        contact.step_index = index
        return True

    def _advance(self, contact: Contact, now: float) -> list[DomainEvent]:
        """Time-driven changes to a waiting contact: aging, SLA escalation, relaxation, end of a sticky wait."""
        events: list[DomainEvent] = []
        refile = False
        aging = self._policy.aging
        boost = min(aging.max_boost, int((now - contact.queued_at) // aging.every_s) * aging.points)
        if boost != contact.aging_boost:
            contact.aging_boost = boost
            refile = True
        escalation = self._policy.escalation
        total = contact.sla_deadline - contact.request.received_at
        for reason, at, points in (
            ("sla_at_risk", contact.sla_deadline - total * (1 - escalation.at_risk_fraction), escalation.at_risk_boost),
            ("sla_breached", contact.sla_deadline, escalation.breach_boost),
        ):
            if now >= at and reason not in contact.escalations:
                contact.escalations.add(reason)
                contact.escalation_boost += points
                events.append(ContactEscalated(contact.contact_id, reason, contact.priority, now))
                refile = True
        stepped = self._refresh_step(contact, now)
        sticky_over = contact.preferred_agent is not None and 0 < contact.wait_for_preferred_until <= now
        if sticky_over:
            contact.wait_for_preferred_until = 0.0
        if stepped or sticky_over:
            return events + self._route(contact, now)
        if refile:
            self._file(contact)
        return events

    # ----------------------------------------------------------------------------------------------- read models
    def queue_stats(self, now: float) -> list[QueueStatsView]:
        views = []
        for queue in self._policy.queues:
            waiting = list(self._waiting.in_queue(queue.name))
            counters = self._stats.of(queue.name)
            available: dict[str, int] = {}
            for agent_id in sorted(self._members.get(queue.name, ())):
                agent = self._agents[agent_id]
                if agent.presence is not Presence.AVAILABLE or not agent.spec.active:
                    continue
                if not any(agent.free(channel) > 0 for channel in agent.spec.capacity):
                    continue
                for skill in queue.required_skills:
                    if agent.spec.skills.get(skill, 0) >= queue.required_skills[skill]:
                        available[f"skill:{skill}"] = available.get(f"skill:{skill}", 0) + 1
                for language in agent.spec.languages:
                    available[f"language:{language}"] = available.get(f"language:{language}", 0) + 1
            views.append(
                QueueStatsView(
                    queue=queue.name,
                    waiting=len(waiting),
                    longest_waiting_s=max((now - c.queued_at for c in waiting), default=0.0),
                    average_time_to_accept_s=counters.average_time_to_accept_s,
                    offers_timed_out=counters.offers_timed_out,
                    sla_attainment_percent=counters.sla_attainment_percent,
                    available_agents=available,
                    estimated_wait_s=self._stats.estimated_wait_s(queue.name, len(waiting) + 1, now),
                )
            )
        return views

    def position(self, contact_id: str, now: float) -> tuple[int, float] | None:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.state is not ContactState.WAITING:
            return None
        key = contact.order_key()
        ahead = sum(1 for other in self._waiting.in_queue(contact.queue) if other.order_key() < key)
        return ahead + 1, self._stats.estimated_wait_s(contact.queue, ahead + 1, now)
