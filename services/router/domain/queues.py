"""The waiting room: waiting contacts per agent group, served by priority, then SLA deadline, then arrival.

Each group an agent can serve has a heap with lazy deletion: a contact is re-pushed whenever its order key or its
groups change (aging, escalation, relaxation) and stale entries are dropped when they surface. A contact may sit in
several heaps (its queue and every overflow group its relaxation step opened).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator

from services.router.domain.model import Contact, ContactState

_Entry = tuple[int, float, int, int, Contact]


class WaitingRoom:
    def __init__(self) -> None:
        self._heaps: dict[str, list[_Entry]] = {}
        # Waiting contacts per queue, for stats and positions.
        self._by_queue: dict[str, dict[str, Contact]] = {}
        self._versions: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._versions)

    def __contains__(self, contact_id: str) -> bool:
        return contact_id in self._versions

    def put(self, contact: Contact, groups: Iterable[str]) -> None:
        """Add or re-file a waiting contact under `groups` with its current order key."""
        version = self._versions.get(contact.contact_id, 0) + 1
        self._versions[contact.contact_id] = version
        self._by_queue.setdefault(contact.queue, {})[contact.contact_id] = contact
        neg_priority, deadline, seq = contact.order_key()
        for group in groups:
            heapq.heappush(self._heaps.setdefault(group, []), (neg_priority, deadline, seq, version, contact))

    def discard(self, contact: Contact) -> None:
        if self._versions.pop(contact.contact_id, None) is not None:
            waiting = self._by_queue.get(contact.queue)
            if waiting is not None:
                waiting.pop(contact.contact_id, None)

    def _live(self, entry: _Entry) -> bool:
        contact = entry[4]
        return contact.state is ContactState.WAITING and self._versions.get(contact.contact_id) == entry[3]

    def best(self, groups: Iterable[str], accepts: Callable[[Contact], bool]) -> Contact | None:
        """The first waiting contact, in serving order across `groups`, that `accepts` takes."""
        best: _Entry | None = None
        for group in groups:
            heap = self._heaps.get(group)
            if not heap:
                continue
            entry = self._first_accepted(heap, accepts)
            if entry is not None and (best is None or entry[:3] < best[:3]):
                best = entry
        return None if best is None else best[4]

    def _first_accepted(self, heap: list[_Entry], accepts: Callable[[Contact], bool]) -> _Entry | None:
        skipped: list[_Entry] = []
        found: _Entry | None = None
        while heap:
            entry = heap[0]
            if not self._live(entry):
                heapq.heappop(heap)
                continue
            if accepts(entry[4]):
                found = entry
                break
            skipped.append(heapq.heappop(heap))
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found

    def in_queue(self, queue: str) -> Iterator[Contact]:
        yield from self._by_queue.get(queue, {}).values()

    def all(self) -> Iterator[Contact]:
        for waiting in self._by_queue.values():
            yield from waiting.values()
