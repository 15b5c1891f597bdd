"""Indexes over agents, so matching a contact never scans every agent.

- members per group, and how many of them are available (for the decision record's funnel);
- ready agents (AVAILABLE, active, no pending offer, room on the channel) per (group, channel, language) and per
  (group, channel, skill), plus (group, channel, ANY) for all of them. A contact searches whichever is smaller:
  the buckets of its languages or the bucket of its primary skill.

Each bucket is an insertion-ordered dict, so iteration is deterministic. The engine calls `refresh(agent)` after
every change to an agent's presence, load, pending offer or profile. Refresh works by difference: usually one
channel fills up or frees, which moves the agent in or out of that channel's few buckets only.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.router.domain.eligibility import ANY_LANGUAGE
from services.router.domain.model import Agent, AgentSpec, Presence

ReadyKey = tuple[str, str, str]
_NOTHING: frozenset[str] = frozenset()
# Skill names and language tags share the key space of the ready buckets; the prefix keeps them apart.
SKILL_PREFIX = "skill:"


def _facets(spec: AgentSpec) -> tuple[str, ...]:
    return (*spec.languages, ANY_LANGUAGE, *(SKILL_PREFIX + skill for skill in spec.skills))


def ready_channels(agent: Agent) -> frozenset[str]:
    """Channels the agent could take a new contact on right now."""
    spec = agent.spec
    if agent.presence is not Presence.AVAILABLE or not spec.active or agent.offer_id is not None:
        return _NOTHING
    load = agent.load
    return frozenset(channel for channel, cap in spec.capacity.items() if cap > load.get(channel, 0))


class AgentIndex:
    def __init__(self) -> None:
        self._members: dict[str, dict[str, Agent]] = {}
        self._available: dict[str, int] = {}
        self._ready: dict[ReadyKey, dict[str, Agent]] = {}
        # The profile each agent is filed with, and the channels it is filed as ready on.
        self._filed_spec: dict[str, AgentSpec] = {}
        self._filed_available: dict[str, bool] = {}
        self._filed_channels: dict[str, frozenset[str]] = {}

    def refresh(self, agent: Agent) -> None:
        agent_id = agent.agent_id
        spec = agent.spec
        if self._filed_spec.get(agent_id) is not spec:
            self.remove(agent)
            self._filed_spec[agent_id] = spec
            for group in spec.queues:
                self._members.setdefault(group, {})[agent_id] = agent
        available = agent.presence is Presence.AVAILABLE and spec.active
        if available != self._filed_available.get(agent_id, False):
            self._count_available(spec, 1 if available else -1)
            self._filed_available[agent_id] = available
        channels = ready_channels(agent)
        filed = self._filed_channels.get(agent_id, _NOTHING)
        if channels != filed:
            for channel in filed - channels:
                self._unready(agent_id, spec, channel)
            for channel in channels - filed:
                self._make_ready(agent, spec, channel)
            agent.ready_channels = channels
            self._filed_channels[agent_id] = channels

    def remove(self, agent: Agent) -> None:
        agent_id = agent.agent_id
        spec = self._filed_spec.pop(agent_id, None)
        if spec is None:
            return
        for group in spec.queues:
            del self._members[group][agent_id]
        if self._filed_available.pop(agent_id, False):
            self._count_available(spec, -1)
        for channel in self._filed_channels.pop(agent_id, _NOTHING):
            self._unready(agent_id, spec, channel)
        agent.ready_channels = _NOTHING

    def _count_available(self, spec: AgentSpec, delta: int) -> None:
        for group in spec.queues:
            self._available[group] = self._available.get(group, 0) + delta

    def _make_ready(self, agent: Agent, spec: AgentSpec, channel: str) -> None:
        ready = self._ready
        facets = _facets(spec)
        for group in spec.queues:
            for facet in facets:
                key = (group, channel, facet)
                bucket = ready.get(key)
                if bucket is None:
                    ready[key] = {agent.agent_id: agent}
                else:
                    bucket[agent.agent_id] = agent

    def _unready(self, agent_id: str, spec: AgentSpec, channel: str) -> None:
        ready = self._ready
        facets = _facets(spec)
        for group in spec.queues:
            for facet in facets:
                key = (group, channel, facet)
                bucket = ready[key]
                del bucket[agent_id]
                if not bucket:
                    del ready[key]

    def members(self, group: str) -> Iterable[Agent]:
        return self._members.get(group, {}).values()

    def member_count(self, group: str) -> int:
        return len(self._members.get(group, ()))

    def available_count(self, group: str) -> int:
        return self._available.get(group, 0)

    def ready_count(self, group: str, channel: str) -> int:
        return len(self._ready.get((group, channel, ANY_LANGUAGE), ()))

    def ready_buckets(self, groups: Iterable[str], channel: str, facets: Iterable[str]) -> list[dict[str, Agent]]:
        """Non-empty buckets of ready agents for these groups, channel and languages (or SKILL_PREFIX + skill).
        Buckets of several groups or languages may overlap."""
        ready = self._ready
        return [bucket for group in groups for facet in facets if (bucket := ready.get((group, channel, facet)))]
