"""The waiting room: waiting contacts filed so an agent finds the best one it may take without scanning them all.

Contacts are filed per (group, channel, language) and, inside, per primary skill and its minimum (the first
required skill by name): an agent with room looks only at the buckets of its groups, channels with room,
languages, and skills at or below its own level.
Each bucket is a heap ordered by priority, then SLA deadline, then arrival, with lazy deletion: a contact is
re-filed (new version) whenever its order or its eligibility changes, and stale entries are dropped when they
surface.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

from services.router.domain.eligibility import Eligibility
from services.router.domain.facets import ANY_LANGUAGE
from services.router.domain.model import Agent, Contact, ContactState

# Filing key of contacts that require no skill: every agent may take them.
ANY_SKILL = "*"

_Entry = tuple[int, float, int, int, Contact]
# Pushes allowed beyond the live entries of the last sweep before stale entries are swept again.
COMPACT_AFTER = 10_000


class WaitingRoom:
    def __init__(self) -> None:
        # (group, channel, language) -> primary skill -> its minimum -> heap
        self._buckets: dict[tuple[str, str, str], dict[str, dict[int, list[_Entry]]]] = {}
        # Contacts held for their sticky agent: filed only where that agent looks, so others never scan them.
        self._held: dict[str, list[_Entry]] = {}
        # Waiting contacts per queue, for stats, positions and membership tests.
        self._by_queue: dict[str, dict[str, Contact]] = {}
        self._count = 0
        # Heap entries pushed since the last sweep, and how many were live after it: stale entries are swept once
        # the pushes outnumber the survivors (plus a floor), so a sweep costs O(1) amortized per push.
        self._pushed = 0
        self._live_after_sweep = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, contact_id: str) -> bool:
        return any(contact_id in waiting for waiting in self._by_queue.values())

    def put(self, contact: Contact, eligibility: Eligibility, held_for: str | None = None) -> None:
        """Add or re-file a waiting contact with its current order key and eligibility, or only for `held_for`."""
        waiting = self._by_queue.get(contact.queue)
        if waiting is None:
            waiting = self._by_queue[contact.queue] = {}
        if contact.contact_id not in waiting:
            waiting[contact.contact_id] = contact
            self._count += 1
        contact.file_version += 1
        if self._pushed > COMPACT_AFTER + self._live_after_sweep:
            self._compact()
        neg_priority, deadline, seq = contact.order_key()
        entry = (neg_priority, deadline, seq, contact.file_version, contact)
        if held_for is not None:
            heapq.heappush(self._held.setdefault(held_for, []), entry)
            self._pushed += 1
            return
        skill, minimum = eligibility.skills[0] if eligibility.skills else (ANY_SKILL, 0)
        channel = eligibility.channel
        buckets = self._buckets
        for group in eligibility.groups:
            for language in eligibility.languages_to_match:
                self._pushed += 1
                key = (group, channel, language)
                by_skill = buckets.get(key)
                if by_skill is None:
                    by_skill = buckets[key] = {}
                by_minimum = by_skill.get(skill)
                if by_minimum is None:
                    by_skill[skill] = {minimum: [entry]}
                    continue
                heap = by_minimum.get(minimum)
                if heap is None:
                    by_minimum[minimum] = [entry]
                else:
                    heapq.heappush(heap, entry)

    def _compact(self) -> None:
        """Drop stale entries everywhere. Lazy deletion only cleans heads, so a bucket whose head never moves would
        otherwise keep every superseded entry behind it."""
        self._pushed = 0
        survivors = 0
        for key, by_skill in list(self._buckets.items()):
            for skill, by_minimum in list(by_skill.items()):
                for minimum, heap in list(by_minimum.items()):
                    live = [entry for entry in heap if _live(entry)]
                    survivors += len(live)
                    if live:
                        heapq.heapify(live)
                        by_minimum[minimum] = live
                    else:
                        del by_minimum[minimum]
                if not by_minimum:
                    del by_skill[skill]
            if not by_skill:
                del self._buckets[key]
        for agent_id, heap in list(self._held.items()):
            live = [entry for entry in heap if _live(entry)]
            survivors += len(live)
            if live:
                heapq.heapify(live)
                self._held[agent_id] = live
            else:
                del self._held[agent_id]
        self._live_after_sweep = survivors

    def discard(self, contact: Contact) -> None:
        waiting = self._by_queue.get(contact.queue)
        if waiting is not None and waiting.pop(contact.contact_id, None) is not None:
            self._count -= 1
            contact.file_version += 1

    def best_for(self, agent: Agent, accepts: Callable[[Contact], bool]) -> Contact | None:
        """The first waiting contact, in serving order over every bucket the agent may serve, that it accepts."""
        spec = agent.spec
        skills = spec.skills
        skill_names = (*skills, ANY_SKILL)
        languages = (*spec.languages, ANY_LANGUAGE)
        buckets = self._buckets
        best: _Entry | None = None
        held = self._held.get(agent.agent_id)
        if held is not None:
            best = _first_accepted(held, accepts)
            if not held:
                del self._held[agent.agent_id]
        for group in spec.queues:
            for channel in agent.ready_channels:
                for language in languages:
                    key = (group, channel, language)
                    by_skill = buckets.get(key)
                    if by_skill is None:
                        continue
                    if len(by_skill) <= len(skills):
                        names = [name for name in by_skill if name in skills or name == ANY_SKILL]
                    else:
                        names = [name for name in skill_names if name in by_skill]
                    for name in names:
                        by_minimum = by_skill[name]
                        level = skills.get(name, 0)
                        for minimum in [m for m in by_minimum if m <= level]:
                            heap = by_minimum[minimum]
                            # Whole entries compare: the (priority, deadline, seq) prefix is unique to a contact, and
                            # a filing is one tuple shared by its heaps, so versions decide only between filings.
                            if best is not None and heap[0] >= best:
                                continue  # even its head (stale or not) cannot beat the best so far
                            entry = _first_accepted(heap, accepts)
                            if not heap:
                                del by_minimum[minimum]
                            if entry is not None and (best is None or entry < best):
                                best = entry
                        if not by_minimum:
                            del by_skill[name]
                    if not by_skill:
                        del buckets[key]
        return None if best is None else best[4]

    def in_queue(self, queue: str) -> Iterator[Contact]:
        yield from self._by_queue.get(queue, {}).values()

    def all(self) -> Iterator[Contact]:
        for waiting in self._by_queue.values():
            yield from waiting.values()


def _live(entry: _Entry) -> bool:
    contact = entry[4]
    return contact.state is ContactState.WAITING and contact.file_version == entry[3]


def _first_accepted(heap: list[_Entry], accepts: Callable[[Contact], bool]) -> _Entry | None:
    skipped: list[_Entry] = []
    found: _Entry | None = None
    while heap:
        entry = heap[0]
        contact = entry[4]
        if contact.state is not ContactState.WAITING or contact.file_version != entry[3]:  # stale (see _live)
            heapq.heappop(heap)
            continue
        if accepts(contact):
            found = entry
            break
        skipped.append(heapq.heappop(heap))
    for entry in skipped:
        heapq.heappush(heap, entry)
    return found
