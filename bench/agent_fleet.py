"""`python -m bench.agent_fleet`: many simulated agents in one process, each on its own AgentDesk stream.

Every agent logs in, goes AVAILABLE, accepts each offer at once and completes the contact after a short think
time. For each offer it prints `offer <tag> <epoch_ns>` on stdout, where the tag is the benchmark's marker found in
the contact's subject or text, so the feeding process can match it to the moment it sent that contact. Prints
`ready <n>` once every agent is logged in and available, and runs until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc

TAG = re.compile(r"\btok[0-9a-f]{12}\b")
Message = agent_desk_pb2.AgentMessage


class SimulatedAgent:
    def __init__(self, agent_id: str, think_s: float, counts: dict[str, int]) -> None:
        self.agent_id = agent_id
        self.think_s = think_s
        self.counts = counts
        self.ready = asyncio.Event()
        self._outgoing: asyncio.Queue[Message | None] = asyncio.Queue()

    async def _requests(self) -> AsyncIterator[Message]:
        while (message := await self._outgoing.get()) is not None:
            yield message

    async def run(self, stub: agent_desk_pb2_grpc.AgentDeskStub, login_deadline: float) -> None:
        """Logs in, retrying while the router does not know the agent yet (its profile is still on its way)."""
        while not await self._session(stub):
            if time.monotonic() > login_deadline:
                raise RuntimeError(f"{self.agent_id} could not log in")
            self._outgoing = asyncio.Queue()
            await asyncio.sleep(0.3)
        raise RuntimeError(f"the router closed the stream of {self.agent_id}")

    async def _session(self, stub: agent_desk_pb2_grpc.AgentDeskStub) -> bool:
        """One stream; False when it ended before the agent became available."""
        self._outgoing.put_nowait(Message(login=agent_desk_pb2.Login(agent_id=self.agent_id)))
        call = stub.Connect(self._requests())
        try:
            async for desk in call:
                self._handle(desk)
        except grpc.aio.AioRpcError:
            if self.ready.is_set():
                raise
        return self.ready.is_set()

    def _handle(self, desk: agent_desk_pb2.DeskMessage) -> None:
        kind = desk.WhichOneof("kind")
        if kind == "offer":
            received_ns = time.time_ns()
            contact = desk.offer.contact
            found = TAG.search(contact.subject) or TAG.search(contact.body_text)
            print(f"offer {found.group(0) if found else '-'} {received_ns}")
            self.counts["offers"] += 1
            accept = agent_desk_pb2.AcceptOffer(offer_id=desk.offer.offer_id)
            self._outgoing.put_nowait(Message(accept=accept, traceparent=desk.traceparent))
        elif kind == "assignment":
            self.counts["assignments"] += 1
            asyncio.get_running_loop().call_later(self.think_s, self._complete, desk)
        elif kind == "login_accepted":
            available = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE)
            self._outgoing.put_nowait(Message(presence=available))
            if desk.login_accepted.presence == agent_desk_pb2.PRESENCE_AVAILABLE:
                self.ready.set()
        elif kind == "presence_changed" and desk.presence_changed.presence == agent_desk_pb2.PRESENCE_AVAILABLE:
            self.ready.set()
        elif kind == "error" and self.ready.is_set():
            self.counts["errors"] += 1
            print(f"error {self.agent_id} {desk.error.code}: {desk.error.message}", file=sys.stderr)

    def _complete(self, desk: agent_desk_pb2.DeskMessage) -> None:
        done = agent_desk_pb2.CompleteContact(contact_id=desk.assignment.contact_id, disposition="resolved")
        self._outgoing.put_nowait(Message(complete=done, traceparent=desk.traceparent))
        self.counts["completed"] += 1

    def close(self) -> None:
        self._outgoing.put_nowait(None)


async def main_async(target: str, agents: int, prefix: str, think_s: float) -> None:
    counts = {"offers": 0, "assignments": 0, "completed": 0, "errors": 0}
    fleet = [SimulatedAgent(f"{prefix}{index:05d}", think_s, counts) for index in range(agents)]
    async with grpc.aio.insecure_channel(target) as channel:
        stub = agent_desk_pb2_grpc.AgentDeskStub(channel)
        login_deadline = time.monotonic() + 90
        tasks = [asyncio.create_task(agent.run(stub, login_deadline)) for agent in fleet]
        waiting: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*(agent.ready.wait() for agent in fleet)))
        done, _ = await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            for task in done:
                task.result()  # surfaces the stream's error
            raise RuntimeError("an agent stream ended before every agent was available")
        print(f"ready {agents}", flush=True)
        stdin_closed: asyncio.Future[Any] = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        flusher = asyncio.create_task(_flush_periodically())
        await asyncio.wait([stdin_closed, *tasks], return_when=asyncio.FIRST_COMPLETED)
        flusher.cancel()
        for agent in fleet:
            agent.close()
        print(f"stats {' '.join(f'{k}={v}' for k, v in counts.items())}", flush=True)


async def _flush_periodically() -> None:
    # Offer lines are buffered; flushing every few ms keeps their cost off the hot path without delaying them.
    while True:
        await asyncio.sleep(0.005)
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.agent_fleet", description=__doc__)
    parser.add_argument("--target", required=True, help="router AgentDesk address, host:port")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--prefix", default="bench-agent-")
    parser.add_argument("--think-ms", type=float, default=50.0)
    options = parser.parse_args()
    asyncio.run(main_async(options.target, options.agents, options.prefix, options.think_ms / 1000))


if __name__ == "__main__":
    main()
