"""The routing engine: a single-threaded state machine over agents, waiting contacts and offers.

No I/O, no clock, no randomness: every call takes `now` and returns the domain events it caused. Matching runs in
both directions and keeps one invariant: no agent with room sits idle while a contact it may take waits (except a
contact held for its sticky agent). Whenever a contact starts waiting it looks for the best ready agent; whenever
an agent gains room (available, capacity freed, offer answered) it pulls the best waiting contact it may take.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from services.router.domain.agent_index import AgentIndex
from services.router.domain.eligibility import Eligibility, StepProfile, eligibility_for, step_profiles
from services.router.domain.events import (
    CommandRejected,
    ContactAbandoned,
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
from services.router.domain.matching import FeedbackOf, Match, best_ready_agent, choose_agent, pulled_decision
from services.router.domain.model import Agent, AgentSpec, Contact, ContactRequest, ContactState, Presence
from services.router.domain.offers import Offer, OfferBook
from services.router.domain.policy import QueuePolicy, RelaxationStep, RoutingPolicy
from services.router.domain.queues import WaitingRoom
from services.router.domain.read_models import channel_occupancy, position_of, queue_view
from services.router.domain.routing_rules import QueueSelector, required_skills
from services.router.domain.satisfaction import AgentSatisfaction
from services.router.domain.scoring import FeedbackScore
from services.router.domain.stats import QueueStatistics
from services.router.domain.sticky import StickyHistory
from services.router.domain.timers import ContactTimers, advance, next_due, step_index_at

# Completed contact ids remembered for is_known() (redelivered inbound records must not route twice).
FINISHED_MEMORY = 1_000_000
ATTEMPTS_EXHAUSTED = "offer_attempts_exhausted"
REPLY_WINDOW_CLOSED = "reply_window_closed"
# restore_assigned() cannot know the clock: the grace period of a restored agent starts at the first tick.
GRACE_FROM_FIRST_TICK = float("-inf")


def _rejected(agent_id: str, code: str, message: str, now: float, contact_id: str = "") -> list[DomainEvent]:
    return [CommandRejected(agent_id, code, message, now, contact_id)]


class RoutingEngine:
    def __init__(self, policy: RoutingPolicy) -> None:
        self._apply_policy(policy)
        self._agents: dict[str, Agent] = {}
        self._index = AgentIndex()
        self._contacts: dict[str, Contact] = {}
        self._finished: dict[str, None] = {}
        self._waiting = WaitingRoom()
        self._timers = ContactTimers()
        self._offers = OfferBook()
        self._stats = QueueStatistics()
        self._sticky = StickyHistory()
        self._satisfaction = AgentSatisfaction()
        self._wrap_ups: list[tuple[float, int, str, str]] = []
        # Offline agents whose accepted contacts are held for them until their grace period ends.
        self._in_grace: set[str] = set()
        # Contacts (possibly) waiting for their sticky agent, per agent; pruned when the agent goes offline.
        self._held: dict[str, set[str]] = {}
        self._seq = 0
        self._decisions = 0

    @property
    def decisions_made(self) -> int:
        """Matching attempts so far: a contact looking for an agent, or an agent with room looking for work."""
        return self._decisions

    # ----------------------------------------------------------------------------------------------- policy
    @property
    def policy(self) -> RoutingPolicy:
        return self._policy

    def replace_policy(self, policy: RoutingPolicy) -> None:
        """Hot reload: contacts keep their queue (or move to the default one if theirs disappeared)."""
        self._apply_policy(policy)
        for contact in list(self._contacts.values()):
            waiting = contact.state is ContactState.WAITING
            if waiting:
                self._waiting.discard(contact)
            if contact.queue not in self._queues:
                contact.queue = policy.default_queue
            contact.step_index = min(contact.step_index, len(self._steps(contact)) - 1)
            contact.eligibility = None
            if waiting:
                self._file(contact, contact.queued_at)

    def _apply_policy(self, policy: RoutingPolicy) -> None:
        self._policy = policy
        self._queues = {queue.name: queue for queue in policy.queues}
        self._selector = QueueSelector(policy)
        self._profiles: dict[str, tuple[StepProfile, ...]] = {
            queue.name: step_profiles(policy.steps_for(queue)) for queue in policy.queues
        }

    def _queue_policy(self, contact: Contact) -> QueuePolicy:
        return self._queues[contact.queue]

    def _steps(self, contact: Contact) -> tuple[RelaxationStep, ...]:
        return self._policy.steps_for(self._queues[contact.queue])

    def _eligibility(self, contact: Contact) -> Eligibility:
        eligibility = contact.eligibility
        if eligibility is None:
            profile = self._profiles[contact.queue][contact.step_index + 1]
            eligibility = contact.eligibility = eligibility_for(contact, profile)
        return eligibility

    # ----------------------------------------------------------------------------------------------- agents
    def upsert_agent(self, spec: AgentSpec, now: float) -> list[DomainEvent]:
        agent = self._agents.get(spec.agent_id)
        if agent is None:
            agent = self._agents[spec.agent_id] = Agent(spec=spec, idle_since=now)
        else:
            agent.spec = spec
        self._index.refresh(agent)
        events: list[DomainEvent] = []
        if agent.offer_id is not None and not self._offer_still_fits(agent):
            events += self._rescind(agent, "agent_profile_changed", now)
        return events + self._pull(agent, now)

    def _offer_still_fits(self, agent: Agent) -> bool:
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
        self._index.remove(agent)
        self._in_grace.discard(agent_id)
        events = self._rescind(agent, "agent_removed", now) if agent.offer_id else []
        for contact_id in sorted(agent.assigned):
            events += self._requeue(self._contacts[contact_id], "agent_removed", now)
        self._index.remove(agent)
        del self._agents[agent_id]
        return events + self._release_held(agent_id, now)

    def agent_connected(self, agent_id: str, now: float) -> list[DomainEvent]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return _rejected(agent_id, "unknown_agent", "no profile for this agent", now)
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
            return _rejected(agent_id, "unknown_agent", "no profile for this agent", now)
        return self._set_presence(agent, presence, reason, now)

    def _set_presence(self, agent: Agent, presence: Presence, reason: str, now: float) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        if agent.presence is not presence or agent.presence_reason != reason:
            events.append(PresenceChanged(agent.agent_id, presence, reason, now))
        agent.presence = presence
        agent.presence_reason = reason
        self._index.refresh(agent)
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
        if presence is Presence.OFFLINE:
            events += self._release_held(agent.agent_id, now)
        return events

    def assignments_of(self, agent_id: str) -> list[str]:
        agent = self._agents.get(agent_id)
        return sorted(agent.assigned) if agent else []

    # ----------------------------------------------------------------------------------------------- contacts
    def is_known(self, contact_id: str) -> bool:
        return contact_id in self._contacts or contact_id in self._finished

    def _admit(self, request: ContactRequest, queued_at: float) -> Contact:
        queue = self._selector.select(request)
        self._seq += 1
        contact = Contact(
            request=request,
            queue=queue.name,
            base_priority=queue.priority + request.priority,
            queued_at=queued_at,
            sla_deadline=request.received_at + queue.sla_for(request.channel),
            required_skills=required_skills(queue, request),
            abandon_at=request.received_at + self._policy.reply_window_for(request.channel),
            seq=self._seq,
        )
        self._contacts[request.contact_id] = contact
        return contact

    def enqueue(self, contact: ContactRequest, now: float) -> list[DomainEvent]:
        if self.is_known(contact.contact_id):
            return []
        state = self._admit(contact, now)
        state.step_index = step_index_at(self._steps(state), 0.0)
        self._prefer_previous_agent(state, now)
        queued = ContactQueued(
            state.contact_id, state.queue, state.priority, state.sla_deadline, self._eligibility(state).step_name, now
        )
        return [queued, *self._route(state, now)]

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
            self._held.setdefault(agent.agent_id, set()).add(contact.contact_id)

    def _forget_hold(self, contact: Contact) -> None:
        """Drop the contact from its sticky agent's hold list (offered, released, or no longer preferred)."""
        if contact.preferred_agent is not None:
            held = self._held.get(contact.preferred_agent)
            if held is not None:
                held.discard(contact.contact_id)
                if not held:
                    del self._held[contact.preferred_agent]

    def _release_held(self, agent_id: str, now: float) -> list[DomainEvent]:
        """The agent went offline: contacts waiting for it stop waiting and go to others, in serving order."""
        released = []
        for contact_id in self._held.pop(agent_id, ()):
            contact = self._contacts.get(contact_id)
            if contact is not None and contact.preferred_agent == agent_id and contact.wait_for_preferred_until > 0:
                contact.wait_for_preferred_until = 0.0
                released.append(contact)
        return self._route_in_order(released, now)

    def restore_waiting(self, contact: ContactRequest, queued_at: float) -> None:
        """A contact that was waiting (or offered) before the restart; agents pull it when they connect."""
        if self.is_known(contact.contact_id):
            return
        state = self._admit(contact, queued_at)
        self._file(state, queued_at)

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
        self._index.refresh(agent)
        if agent.presence is Presence.OFFLINE and agent.grace_until is None:
            agent.grace_until = GRACE_FROM_FIRST_TICK
            self._in_grace.add(agent_id)
        self._sticky.remember(contact.customer_id, contact.conversation_id, agent_id, assigned_at)

    def remember_handled(self, customer_id: str, conversation_id: str, agent_id: str, at: float) -> None:
        self._sticky.remember(customer_id, conversation_id, agent_id, at)

    # ----------------------------------------------------------------------------------------------- matching
    def _waiting_for_preferred(self, contact: Contact, now: float) -> bool:
        """Sticky wait: the contact waits for its previous agent while that agent is online, until the tick that
        reaches the end of the wait releases it (so the hold ends at one well-defined moment)."""
        if contact.preferred_agent is None or contact.wait_for_preferred_until == 0.0:
            return False
        preferred = self._agents.get(contact.preferred_agent)
        return preferred is not None and preferred.presence is not Presence.OFFLINE

    def _held_for_other(self, contact: Contact, agent: Agent, now: float) -> bool:
        return contact.preferred_agent != agent.agent_id and self._waiting_for_preferred(contact, now)

    def _route(self, contact: Contact, now: float) -> list[DomainEvent]:
        """Offer a waiting contact to its best eligible agent, or file it in the waiting room."""
        if contact.abandon_at <= now:
            return [self._abandon(contact, REPLY_WINDOW_CLOSED, now)]
        self._decisions += 1
        eligibility = self._eligibility(contact)
        scoring = self._queue_policy(contact).scoring
        preferred = self._agents.get(contact.preferred_agent) if contact.preferred_agent else None
        if preferred is not None:
            feedback = self._feedback_for(contact, now)
            match = choose_agent(
                [preferred], eligibility, scoring, preferred.agent_id, now, 1, {}, prefiltered=False, feedback=feedback
            )
            if match is not None:
                return self._offer(contact, match, now)
            if self._waiting_for_preferred(contact, now):
                self._file(contact, now)
                return []
        match = self._best_ready_agent(contact, eligibility, scoring, now)
        if match is None:
            self._file(contact, now)
            return []
        return self._offer(contact, match, now)

    def _best_ready_agent(self, contact: Contact, eligibility: Eligibility, scoring: str, now: float) -> Match | None:
        feedback = self._feedback_for(contact, now)
        return best_ready_agent(
            self._index, eligibility, scoring, contact.preferred_agent, now, len(self._agents), feedback
        )

    # ----------------------------------------------------------------------------------------------- feedback
    def record_csat(self, agent_id: str, queue: str, contact_skills: Iterable[str], rating: int, at: float) -> None:
        """A CSAT answer about an agent's work; it is filed under the queue's skills and the contact's own."""
        queue_policy = self._queues.get(queue)
        skills = set(contact_skills) | set(queue_policy.required_skills if queue_policy else ())
        self._satisfaction.record(agent_id, skills, rating, at)

    def _feedback_for(self, contact: Contact, now: float) -> FeedbackOf:
        """Agents' recent CSAT for this contact's skills, looked up once per agent; None when the queue's feedback
        routing is off."""
        policy = self._queue_policy(contact).feedback_routing
        if not policy.enabled:
            return None
        skills = tuple(contact.required_skills)
        scores: dict[str, FeedbackScore] = {}

        def of(agent_id: str) -> FeedbackScore:
            found = scores.get(agent_id)
            if found is None:
                found = scores[agent_id] = self._satisfaction.score(agent_id, skills, policy, now)
            return found

        return of

    def _file(self, contact: Contact, now: float) -> None:
        """Put a contact (back) in the waiting room and wake it when its step, priority or sticky hold changes."""
        contact.state = ContactState.WAITING
        held_for = contact.preferred_agent if self._waiting_for_preferred(contact, now) else None
        self._waiting.put(contact, self._eligibility(contact), held_for)
        self._timers.schedule(contact, next_due(contact, self._policy, self._steps(contact), now))

    def _pull(self, agent: Agent, now: float) -> list[DomainEvent]:
        """An agent with room takes the first waiting contact (priority, SLA deadline, arrival) they may take."""
        if not agent.ready_channels or agent.offer_id is not None:
            return []
        self._decisions += 1

        def accepts(contact: Contact) -> bool:
            # A contact whose reply window closed since the last tick waits there to be abandoned, never offered.
            return (
                contact.abandon_at > now
                and self._eligibility(contact).rejection(agent) is None
                and not self._held_for_other(contact, agent, now)
            )

        contact = self._waiting.best_for(agent, accepts)
        if contact is None:
            return []
        sticky = contact.preferred_agent == agent.agent_id
        scoring = self._queue_policy(contact).scoring
        feedback = self._feedback_for(contact, now)
        match = pulled_decision(agent, self._eligibility(contact), scoring, sticky, now, feedback)
        return self._offer(contact, match, now)

    # ----------------------------------------------------------------------------------------------- offers
    def _offer(self, contact: Contact, match: Match, now: float) -> list[DomainEvent]:
        agent = match.agent
        self._waiting.discard(contact)
        self._forget_hold(contact)
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
        agent.offer_id = offer.offer_id
        agent.take(contact.channel, now)
        self._index.refresh(agent)
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

    def _owned_offer(self, agent_id: str, offer_id: str, now: float) -> Offer | list[DomainEvent]:
        if agent_id not in self._agents:
            return _rejected(agent_id, "unknown_agent", "no profile for this agent", now)
        offer = self._offers.get(offer_id)
        if offer is None:
            return _rejected(agent_id, "unknown_offer", "the offer expired, was rescinded or never existed", now)
        if offer.agent_id != agent_id:
            return _rejected(agent_id, "not_owner", "the offer belongs to another agent", now, offer.contact_id)
        return offer

    def _close_offer(self, offer: Offer, now: float) -> tuple[Contact, Agent]:
        """Retire a pending offer and give the agent back the capacity it reserved."""
        self._offers.pop(offer.offer_id)
        contact = self._contacts[offer.contact_id]
        agent = self._agents[offer.agent_id]
        contact.offer_id = None
        agent.offer_id = None
        agent.release(contact.channel, now)
        self._index.refresh(agent)
        return contact, agent

    def accept(self, agent_id: str, offer_id: str, now: float) -> list[DomainEvent]:
        offer = self._owned_offer(agent_id, offer_id, now)
        if not isinstance(offer, Offer):
            return offer
        self._offers.pop(offer_id)
        contact = self._contacts[offer.contact_id]
        agent = self._agents[agent_id]
        agent.offer_id = None
        contact.offer_id = None
        contact.state = ContactState.ASSIGNED
        contact.agent_id = agent_id
        agent.assigned.add(contact.contact_id)
        # No refresh of the index: the offer already took the capacity, and a pending offer never unfiles an agent.
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
        if not isinstance(offer, Offer):
            return offer
        contact, agent = self._close_offer(offer, now)
        contact.decline(agent_id)
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
        if contact.preferred_agent in contact.declined_by:
            self._forget_hold(contact)
            contact.preferred_agent = None  # the sticky agent passed: nothing left to wait for
            contact.wait_for_preferred_until = 0.0
        if contact.attempts >= self._policy.max_offer_attempts:
            contact.attempts = 0
            contact.declined_by.clear()
            if ATTEMPTS_EXHAUSTED not in contact.escalations:
                contact.escalations |= {ATTEMPTS_EXHAUSTED}
                contact.escalation_boost += self._policy.escalation.breach_boost
            events.append(ContactEscalated(contact.contact_id, ATTEMPTS_EXHAUSTED, contact.priority, now))
        return events + self._route(contact, now)

    # ----------------------------------------------------------------------------------------------- work
    def complete(self, agent_id: str, contact_id: str, disposition: str, summary: str, now: float) -> list[DomainEvent]:
        contact = self._contacts.get(contact_id)
        if agent_id not in self._agents:
            return _rejected(agent_id, "unknown_agent", "no profile for this agent", now, contact_id)
        if contact is None:
            return _rejected(agent_id, "unknown_contact", "no such contact in progress", now, contact_id)
        if contact.state is not ContactState.ASSIGNED or contact.agent_id != agent_id:
            return _rejected(agent_id, "not_owner", "the contact is not assigned to this agent", now, contact_id)
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
        self._index.refresh(agent)
        return events + self._pull(agent, now)

    def _abandon(self, contact: Contact, reason: str, now: float) -> ContactAbandoned:
        """The contact leaves unserved: out of the waiting room and its sticky agent's hold, known as finished."""
        self._waiting.discard(contact)
        self._forget_hold(contact)
        contact.state = ContactState.ABANDONED
        del self._contacts[contact.contact_id]
        self._remember_finished(contact.contact_id)
        return ContactAbandoned(contact.contact_id, contact.queue, reason, now)

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
            self._index.refresh(agent)
        contact.agent_id = None
        contact.attempts = 0
        self._forget_hold(contact)
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
                self._index.refresh(agent)
                events += self._pull(agent, now)
        for agent_id in sorted(self._in_grace):
            agent = self._agents[agent_id]
            if agent.grace_until is None or agent.presence is not Presence.OFFLINE:
                continue
            if agent.grace_until == GRACE_FROM_FIRST_TICK:
                agent.grace_until = now + self._policy.disconnect_grace_s
            if agent.grace_until <= now:
                events += self._expire_grace(agent, now)
        # Update every due contact first, then route the ones whose options changed in serving order, so a
        # higher-priority contact due at the same moment is never passed over.
        to_route: list[Contact] = []
        for contact in self._timers.due(now):
            if contact.state is not ContactState.WAITING:
                continue
            if contact.abandon_at <= now:
                events.append(self._abandon(contact, REPLY_WINDOW_CLOSED, now))
            else:
                events += self._advance(contact, now, to_route)
        return events + self._route_in_order(to_route, now)

    def _route_in_order(self, contacts: list[Contact], now: float) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for contact in sorted(contacts, key=Contact.order_key):
            if contact.state is ContactState.WAITING:
                self._waiting.discard(contact)
                events += self._route(contact, now)
        return events

    def _time_out(self, offer: Offer, now: float) -> list[DomainEvent]:
        # expired() already took the offer out of the book; give back what it held.
        contact = self._contacts[offer.contact_id]
        agent = self._agents[offer.agent_id]
        contact.offer_id = None
        agent.offer_id = None
        agent.release(contact.channel, now)
        contact.decline(agent.agent_id)
        self._stats.timed_out(contact.queue)
        events: list[DomainEvent] = [OfferTimedOut(offer.offer_id, contact.contact_id, agent.agent_id, now)]
        events += self._set_presence(agent, Presence.AWAY, "missed_offer", now)
        return events + self._retry(contact, now)

    def _advance(self, contact: Contact, now: float, to_route: list[Contact]) -> list[DomainEvent]:
        """Apply the time rules to a due contact: if its options widened it joins `to_route`, else it is re-filed."""
        events, widened = advance(contact, self._policy, self._steps(contact), now)
        if contact.wait_for_preferred_until == 0.0:
            self._forget_hold(contact)
        if widened:
            to_route.append(contact)
        else:
            self._file(contact, now)
        return list(events)

    # ----------------------------------------------------------------------------------------------- read models
    def occupancy(self) -> dict[str, float]:
        return channel_occupancy(self._agents.values())

    def queue_stats(self, now: float) -> list[QueueStatsView]:
        return [queue_view(queue, self._waiting, self._index, self._stats, now) for queue in self._policy.queues]

    def position(self, contact_id: str, now: float) -> tuple[int, float] | None:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.state is not ContactState.WAITING:
            return None
        return position_of(contact, self._waiting, self._stats, now)
