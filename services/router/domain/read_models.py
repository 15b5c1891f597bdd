"""Read models over the engine's state: queue stats, channel occupancy, a waiting contact's position and ETA."""

from __future__ import annotations

from collections.abc import Iterable

from services.router.domain.agent_index import AgentIndex
from services.router.domain.events import QueueStatsView
from services.router.domain.model import Agent, Contact, Presence
from services.router.domain.policy import QueuePolicy
from services.router.domain.queues import WaitingRoom
from services.router.domain.stats import QueueStatistics


def available_agents(queue: QueuePolicy, index: AgentIndex) -> dict[str, int]:
    """Members of the queue who are available with room on some channel, per required skill and per language."""
    counts: dict[str, int] = {}
    for agent in index.members(queue.name):
        if agent.presence is not Presence.AVAILABLE or not agent.spec.active:
            continue
        if not any(cap > agent.load.get(channel, 0) for channel, cap in agent.spec.capacity.items()):
            continue
        for skill, minimum in queue.required_skills.items():
            if agent.spec.skills.get(skill, 0) >= minimum:
                counts[f"skill:{skill}"] = counts.get(f"skill:{skill}", 0) + 1
        for language in agent.spec.languages:
            counts[f"language:{language}"] = counts.get(f"language:{language}", 0) + 1
    return dict(sorted(counts.items()))


def channel_occupancy(agents: Iterable[Agent]) -> dict[str, float]:
    """Per channel, the share of logged-in (not offline) active agents' capacity that is in use."""
    load: dict[str, int] = {}
    capacity: dict[str, int] = {}
    for agent in agents:
        if agent.presence is Presence.OFFLINE or not agent.spec.active:
            continue
        for channel, slots in agent.spec.capacity.items():
            capacity[channel] = capacity.get(channel, 0) + slots
            load[channel] = load.get(channel, 0) + agent.load.get(channel, 0)
    return {channel: load[channel] / slots for channel, slots in sorted(capacity.items()) if slots}


def queue_view(
    queue: QueuePolicy, waiting: WaitingRoom, index: AgentIndex, stats: QueueStatistics, now: float
) -> QueueStatsView:
    contacts = list(waiting.in_queue(queue.name))
    counters = stats.of(queue.name)
    return QueueStatsView(
        queue=queue.name,
        waiting=len(contacts),
        longest_waiting_s=max((now - c.queued_at for c in contacts), default=0.0),
        average_time_to_accept_s=counters.average_time_to_accept_s,
        offers_timed_out=counters.offers_timed_out,
        sla_attainment_percent=counters.sla_attainment_percent,
        available_agents=available_agents(queue, index),
        estimated_wait_s=stats.estimated_wait_s(queue.name, len(contacts) + 1, now),
    )


def position_of(contact: Contact, waiting: WaitingRoom, stats: QueueStatistics, now: float) -> tuple[int, float]:
    """1-based position among the queue's waiting contacts in serving order, and the estimated wait."""
    key = contact.order_key()
    ahead = sum(1 for other in waiting.in_queue(contact.queue) if other.order_key() < key)
    return ahead + 1, stats.estimated_wait_s(contact.queue, ahead + 1, now)
