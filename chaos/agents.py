"""Agents for the chaos scenarios: dependable ones that reconnect, and misbehaving ones that drop or stall."""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from contactrouting.v1 import agent_desk_pb2
from devstack.desk import DeskRefused, DeskSession, StreamEnded, log_in

TAG = re.compile(r"\btok[0-9a-f]{12}\b")
Message = agent_desk_pb2.AgentMessage


class Behaviour(Enum):
    DEPENDABLE = "dependable"  # accepts every offer, completes after a think time
    DROPPER = "dropper"  # drops its stream mid-offer or mid-conversation now and then, then comes back
    SILENT = "silent"  # stays available but never answers an offer


@dataclass
class AgentObservations:
    """What the agents themselves received, to check against routing.events."""

    offers: int = 0
    assigned_tags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    drops: int = 0
    reconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered_tags(self) -> set[str]:
        with self.lock:
            return set(self.assigned_tags)


class ChaosAgent(threading.Thread):
    def __init__(
        self,
        target: str,
        agent_id: str,
        behaviour: Behaviour,
        seen: AgentObservations,
        think_s: float = 0.3,
        drop_probability: float = 0.2,
    ) -> None:
        super().__init__(daemon=True, name=f"agent-{agent_id}")
        self.target, self.agent_id, self.behaviour, self.seen = target, agent_id, behaviour, seen
        self.think_s, self.drop_probability = think_s, drop_probability
        self.stop_event = threading.Event()
        self.random = random.Random(agent_id)
        self.ready = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                session = log_in(self.target, self.agent_id, timeout_s=5)
            except (DeskRefused, StreamEnded, TimeoutError):
                time.sleep(0.5)
                continue
            self._available(session)
            self.ready.set()
            with contextlib.suppress(StreamEnded):
                self._work(session)
            session.close()
            with self.seen.lock:
                self.seen.reconnects += 1

    def _available(self, session: DeskSession) -> None:
        presence = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE)
        session.send(Message(presence=presence))

    def _work(self, session: DeskSession) -> None:
        due: list[tuple[float, agent_desk_pb2.DeskMessage]] = []
        while not self.stop_event.is_set():
            message = session.receive(0.1)
            now = time.monotonic()
            for deadline, assignment in [d for d in due if d[0] <= now]:
                due.remove((deadline, assignment))
                done = agent_desk_pb2.CompleteContact(contact_id=assignment.assignment.contact_id, disposition="ok")
                session.send(Message(complete=done, traceparent=assignment.traceparent))
            if message is None:
                continue
            kind = message.WhichOneof("kind")
            if kind == "offer":
                with self.seen.lock:
                    self.seen.offers += 1
                if self.behaviour is Behaviour.SILENT:
                    continue
                if self._drops():
                    return
                accept = agent_desk_pb2.AcceptOffer(offer_id=message.offer.offer_id)
                session.send(Message(accept=accept, traceparent=message.traceparent))
            elif kind == "assignment":
                contact = message.assignment.contact
                found = TAG.search(contact.subject) or TAG.search(contact.body_text)
                with self.seen.lock:
                    self.seen.assigned_tags[found.group(0) if found else ""].add(self.agent_id)
                if self._drops():
                    return
                due.append((now + self.think_s, message))
            elif kind == "presence_changed" and message.presence_changed.presence != agent_desk_pb2.PRESENCE_AVAILABLE:
                self._available(session)  # a silent agent keeps coming back, as a distracted human does

    def _drops(self) -> bool:
        if self.behaviour is not Behaviour.DROPPER or self.random.random() >= self.drop_probability:
            return False
        with self.seen.lock:
            self.seen.drops += 1
        time.sleep(self.random.uniform(0.2, 1.5))  # the stream is dropped by returning; reconnect after a pause
        return True


class AgentPool:
    def __init__(self, target: str, behaviours: dict[str, Behaviour], think_s: float = 0.3) -> None:
        self.seen = AgentObservations()
        self.agents = [ChaosAgent(target, agent_id, b, self.seen, think_s) for agent_id, b in behaviours.items()]

    def start(self, timeout_s: float = 60.0) -> None:
        for agent in self.agents:
            agent.start()
        deadline = time.monotonic() + timeout_s
        for agent in self.agents:
            if not agent.ready.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"{agent.agent_id} could not log in")

    def stop(self) -> None:
        for agent in self.agents:
            agent.stop_event.set()
        for agent in self.agents:
            agent.join(5)
