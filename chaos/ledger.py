"""What happened to each contact, read back from `routing.events`: assigned, duplicated or lost."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import routing_pb2

TAG = re.compile(r"\btok[0-9a-f]{12}\b")
RET = routing_pb2.RoutingEventType
RELEASES = (RET.ROUTING_EVENT_TYPE_REQUEUED, RET.ROUTING_EVENT_TYPE_COMPLETED, RET.ROUTING_EVENT_TYPE_ABANDONED)


@dataclass
class ContactHistory:
    tag: str
    events: list[routing_pb2.RoutingEvent] = field(default_factory=list)

    def accepted_at(self) -> list[float]:
        return [e.occurred_at.ToMilliseconds() / 1000 for e in self.events if e.type == RET.ROUTING_EVENT_TYPE_ACCEPTED]

    def held_twice(self) -> bool:
        """True when a second agent accepted while the first still held the contact."""
        holder = ""
        for event in self.events:
            if event.type == RET.ROUTING_EVENT_TYPE_ACCEPTED:
                if holder:
                    return True
                holder = event.agent_id
            elif event.type in RELEASES:
                holder = ""
        return False


@dataclass
class Verdict:
    sent: int
    assigned: int
    duplicated: list[str]
    lost: list[str]


class Ledger:
    """Tails routing.events from the beginning and indexes every contact by the tag in its text."""

    def __init__(self, kafka_bootstrap: str) -> None:
        self._consumer = ProtoConsumer(
            ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap),
            {ROUTING_EVENTS: routing_pb2.RoutingEvent},
            client_id="chaos-ledger",
            subscribe=False,
        )
        self._consumer.assign_from_beginning()
        self.by_contact: dict[str, ContactHistory] = {}
        self.contacts_of_tag: dict[str, set[str]] = defaultdict(set)
        self._early: dict[str, list[routing_pb2.RoutingEvent]] = defaultdict(list)

    def poll(self, timeout_ms: int = 300) -> None:
        for record in self._consumer.poll(timeout_ms=timeout_ms):
            if isinstance(record.message, routing_pb2.RoutingEvent):
                self._observe(record.message)

    def _observe(self, event: routing_pb2.RoutingEvent) -> None:
        history = self.by_contact.get(event.contact_id)
        if history is None:
            if event.type != RET.ROUTING_EVENT_TYPE_QUEUED:
                self._early[event.contact_id].append(event)
                return
            found = TAG.search(event.contact.subject) or TAG.search(event.contact.body_text)
            history = ContactHistory(found.group(0) if found else "")
            self.by_contact[event.contact_id] = history
            self.contacts_of_tag[history.tag].add(event.contact_id)
            history.events.extend(self._early.pop(event.contact_id, []))
        history.events.append(event)

    def assigned_tags(self) -> set[str]:
        return {h.tag for h in self.by_contact.values() if h.accepted_at()}

    def settle(self, sent: set[str], timeout_s: float, delivered: Callable[[], set[str]]) -> None:
        """Reads until every sent tag is assigned here and `delivered` to an agent, or the timeout passes.

        Both sides are awaited: an agent may see its assignment a moment after routing.events holds it (the router
        shows work only once its ACCEPTED is acknowledged), and "not yet" must not be reported as "never".
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not (sent <= self.assigned_tags() and sent <= delivered()):
            self.poll()
        self.poll(timeout_ms=1000)  # a last look for late duplicates

    def describe(self, tag: str) -> str:
        """One contact's routing history, for a failure note: `QUEUED, OFFERED@agent, ACCEPTED@agent, …`."""
        steps = []
        for contact_id in sorted(self.contacts_of_tag.get(tag, ())):
            for event in self.by_contact[contact_id].events:
                name = RET.Name(event.type).removeprefix("ROUTING_EVENT_TYPE_")
                steps.append(f"{name}@{event.agent_id}" if event.agent_id else name)
        return f"{tag}: {', '.join(steps) or 'no routing events'}"

    def verdict(self, sent: set[str]) -> Verdict:
        duplicated = sorted(
            tag
            for tag in sent
            if len(self.contacts_of_tag.get(tag, ())) > 1
            or any(self.by_contact[c].held_twice() for c in self.contacts_of_tag.get(tag, ()))
        )
        assigned = self.assigned_tags() & sent
        return Verdict(len(sent), len(assigned), duplicated, sorted(sent - assigned))

    def first_accept_after(self, moment: float) -> float | None:
        times = [t for h in self.by_contact.values() for t in h.accepted_at() if t > moment]
        return min(times) if times else None

    def close(self) -> None:
        self._consumer.close()
