"""Indexes over agents, so matching a contact never scans every agent.

- members per group, and how many of them are available (for the decision record's funnel);
- ready agents (AVAILABLE, active, room on the channel) per (group, channel) and facet: each
  language, ANY_LANGUAGE (all of them), and each (language or ANY_LANGUAGE, skill, level). A contact searches the
  buckets of its languages paired with its rarest required skill, best level first, so it scans only the agents of
  the best level that has any; the bucket sizes explain the rest.

Each bucket is an insertion-ordered dict, so iteration is deterministic. The engine calls `refresh(agent)` after
every change to an agent's presence, load, pending offer or profile. Refresh works by difference: usually one
channel fills up or frees, which moves the agent in or out of that channel's buckets only (resolved once per agent
and channel).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.router.domain.facets import ANY_LANGUAGE, MAX_PROFICIENCY, skill_facet
from services.router.domain.model import Agent, AgentSpec, Presence

_NOTHING: frozenset[str] = frozenset()
# Agent ids (values None): a dict of strings only is never tracked by the garbage collector, and the index holds
# hundreds of thousands of buckets (one per channel, group and facet in use).
_Bucket = dict[str, None]


def _facets(spec: AgentSpec) -> list[tuple[str, str]]:
    """(group, facet) pairs an agent is filed under on each of its ready channels."""
    languages = (*spec.languages, ANY_LANGUAGE)
    levels = [(skill, min(level, MAX_PROFICIENCY)) for skill, level in spec.skills.items() if level >= 1]
    facets = [*languages, *(skill_facet(language, skill, level) for language in languages for skill, level in levels)]
    return [(group, facet) for group in spec.queues for facet in facets]


def ready_channels(agent: Agent) -> frozenset[str]:
    """Channels the agent has room on while available. An agent with a pending offer stays filed (offers come and
    go several times per contact, and refiling costs more than skipping it in a search): searches check it."""
    spec = agent.spec
    if agent.presence is not Presence.AVAILABLE or not spec.active:
        return _NOTHING
    load = agent.load
    return frozenset(channel for channel, cap in spec.capacity.items() if cap > load.get(channel, 0))


class AgentIndex:
    def __init__(self) -> None:
        self._members: dict[str, dict[str, Agent]] = {}
        self._agents: dict[str, Agent] = {}
        self._available: dict[str, int] = {}
        # channel -> group -> facet -> ready agents (nested, so a search hashes only strings, whose hashes are
        # cached). Buckets are kept once empty (they are bounded by the profiles seen), so each agent can hold on
        # to the very buckets it is filed in.
        self._ready: dict[str, dict[str, dict[str, _Bucket]]] = {}
        # The profile each agent is filed with, its (group, facet) pairs, and the channels it is filed as ready on.
        self._filed_spec: dict[str, AgentSpec] = {}
        self._facets: dict[str, list[tuple[str, str]]] = {}
        self._filed_available: dict[str, bool] = {}
        self._filed_channels: dict[str, frozenset[str]] = {}
        # agent -> channel -> its buckets on that channel, resolved once: moving an agent in or out of a channel
        # (the index's most frequent change) then costs one dict store or delete per bucket, no key lookups.
        self._buckets: dict[str, dict[str, list[_Bucket]]] = {}

    def refresh(self, agent: Agent) -> None:
        agent_id = agent.agent_id
        spec = agent.spec
        if self._filed_spec.get(agent_id) is not spec:
            self.remove(agent)
            self._filed_spec[agent_id] = spec
            self._agents[agent_id] = agent
            self._facets[agent_id] = _facets(spec)
            self._buckets[agent_id] = {}
            for group in spec.queues:
                self._members.setdefault(group, {})[agent_id] = agent
        available = agent.presence is Presence.AVAILABLE and spec.active
        if available != self._filed_available.get(agent_id, False):
            self._count_available(spec, 1 if available else -1)
            self._filed_available[agent_id] = available
        filed = self._filed_channels.get(agent_id, _NOTHING)
        if available:
            # Most refreshes change nothing the index files by (load moved on a channel that still has room):
            # check before building the new set of ready channels.
            load = agent.load
            for channel, cap in spec.capacity.items():
                if (cap > load.get(channel, 0)) != (channel in filed):
                    break
            else:
                return
            channels = ready_channels(agent)
        else:
            channels = _NOTHING
        if channels != filed:
            for channel in filed - channels:
                for bucket in self._buckets[agent_id][channel]:
                    del bucket[agent_id]
            for channel in channels - filed:
                for bucket in self._buckets_of(agent_id, channel):
                    bucket[agent_id] = None
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
        by_channel = self._buckets.pop(agent_id)
        for channel in self._filed_channels.pop(agent_id, _NOTHING):
            for bucket in by_channel[channel]:
                del bucket[agent_id]
        del self._facets[agent_id]
        del self._agents[agent_id]
        agent.ready_channels = _NOTHING

    def _count_available(self, spec: AgentSpec, delta: int) -> None:
        for group in spec.queues:
            self._available[group] = self._available.get(group, 0) + delta

    def _buckets_of(self, agent_id: str, channel: str) -> list[_Bucket]:
        by_channel = self._buckets[agent_id]
        found = by_channel.get(channel)
        if found is None:
            ready = self._ready.get(channel)
            if ready is None:
                ready = self._ready[channel] = {}
            found = by_channel[channel] = [
                ready.setdefault(group, {}).setdefault(facet, {}) for group, facet in self._facets[agent_id]
            ]
        return found

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Filed agents by id (bucket entries are ids)."""
        return self._agents

    def members(self, group: str) -> Iterable[Agent]:
        return self._members.get(group, {}).values()

    def member_count(self, group: str) -> int:
        return len(self._members.get(group, ()))

    def available_count(self, group: str) -> int:
        return self._available.get(group, 0)

    def ready_count(self, group: str, channel: str) -> int:
        return len(self._ready.get(channel, {}).get(group, {}).get(ANY_LANGUAGE, ()))

    def ready_buckets(self, groups: Iterable[str], channel: str, facets: Iterable[str]) -> list[_Bucket]:
        """Non-empty buckets of ready agents for these groups, channel and facets (buckets may overlap)."""
        ready = self._ready.get(channel)
        if ready is None:
            return []
        found = []
        for group in groups:
            by_facet = ready.get(group)
            if by_facet is not None:
                for facet in facets:
                    bucket = by_facet.get(facet)
                    if bucket:
                        found.append(bucket)
        return found

    def ready_by_level(
        self, groups: Iterable[str], channel: str, levels: tuple[tuple[str, ...], ...]
    ) -> tuple[list[list[_Bucket]], int]:
        """`ready_buckets` for each level's facets in one pass, and how many entries they hold together."""
        found: list[list[_Bucket]] = [[] for _ in levels]
        ready = self._ready.get(channel)
        if ready is None:
            return found, 0
        total = 0
        for group in groups:
            by_facet = ready.get(group)
            if by_facet is None:
                continue
            for buckets, facets in zip(found, levels, strict=True):
                for facet in facets:
                    bucket = by_facet.get(facet)
                    if bucket:
                        buckets.append(bucket)
                        total += len(bucket)
        return found, total
