"""A small synchronous AgentDesk client: one bidirectional gRPC stream, messages read on a thread (tests, chaos)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import grpc

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc

_CLOSE = object()


class DeskSession:
    def __init__(self, target: str, agent_id: str, token: str = "") -> None:
        self.agent_id = agent_id
        self._channel = grpc.insecure_channel(target)
        self._outgoing: queue.Queue[object] = queue.Queue()
        self.incoming: queue.Queue[agent_desk_pb2.DeskMessage] = queue.Queue()
        self._outgoing.put(agent_desk_pb2.AgentMessage(login=agent_desk_pb2.Login(agent_id=agent_id, token=token)))
        self._call = agent_desk_pb2_grpc.AgentDeskStub(self._channel).Connect(self._requests())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _requests(self) -> Iterator[agent_desk_pb2.AgentMessage]:
        while True:
            message = self._outgoing.get()
            if message is _CLOSE:
                return
            assert isinstance(message, agent_desk_pb2.AgentMessage)
            yield message

    def _read(self) -> None:
        try:
            for message in self._call:
                self.incoming.put(message)
        except grpc.RpcError:
            pass

    def send(self, message: agent_desk_pb2.AgentMessage) -> None:
        self._outgoing.put(message)

    def next(self, kind: str, timeout_s: float = 30.0) -> agent_desk_pb2.DeskMessage:
        """The next message of the given oneof kind (e.g. "offer"), skipping others; a DeskError raises."""
        while True:
            message = self.incoming.get(timeout=timeout_s)
            if message.WhichOneof("kind") == kind:
                return message
            if message.WhichOneof("kind") == "error":
                raise DeskRefused(message.error.code, message.error.message)

    def close(self) -> None:
        self._outgoing.put(_CLOSE)
        self._call.cancel()
        self._channel.close()


class DeskRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def log_in(target: str, agent_id: str, timeout_s: float = 30.0) -> DeskSession:
    """Log in once the router knows the agent: profiles reach it from the skills service asynchronously."""
    deadline = time.monotonic() + timeout_s
    while True:
        session = DeskSession(target, agent_id)
        try:
            session.next("login_accepted", timeout_s=10)
            return session
        except DeskRefused:
            session.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
