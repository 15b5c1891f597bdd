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
        self.ended = threading.Event()
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
        finally:
            self.ended.set()

    def send(self, message: agent_desk_pb2.AgentMessage) -> None:
        self._outgoing.put(message)

    def next(self, kind: str, timeout_s: float = 30.0) -> agent_desk_pb2.DeskMessage:
        """The next message of the given oneof kind (e.g. "offer"), skipping others; a DeskError raises."""
        deadline = time.monotonic() + timeout_s
        while True:
            message = self.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                raise TimeoutError(f"no {kind} within {timeout_s:.0f}s")
            if message.WhichOneof("kind") == kind:
                return message
            if message.WhichOneof("kind") == "error":
                raise DeskRefused(message.error.code, message.error.message)

    def receive(self, timeout_s: float) -> agent_desk_pb2.DeskMessage | None:
        """The next message, None after the timeout; StreamEnded once the router closed the stream."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.incoming.get(timeout=min(0.1, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                if self.ended.is_set() and self.incoming.empty():
                    raise StreamEnded(self.agent_id) from None
                if time.monotonic() >= deadline:
                    return None

    def close(self) -> None:
        self._outgoing.put(_CLOSE)
        self._call.cancel()
        self._channel.close()


class StreamEnded(Exception):
    """The router closed the stream (restart, shutdown, or a newer session of the same agent)."""


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
        except (DeskRefused, StreamEnded, TimeoutError):
            session.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
