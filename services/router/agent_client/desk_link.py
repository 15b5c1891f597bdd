"""One agent's AgentDesk stream, logged in and re-established with backoff whenever it drops."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import grpc

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc

_END = None


class DeskLink:
    """Incoming desk messages go to `on_message`; connection changes to `on_status` as short readable lines."""

    def __init__(
        self,
        channel: grpc.Channel,
        agent_id: str,
        on_message: Callable[[agent_desk_pb2.DeskMessage], None],
        on_status: Callable[[str], None],
        token: str = "",
        max_backoff_s: float = 5.0,
    ) -> None:
        self._channel = channel
        self.agent_id = agent_id
        self._token = token
        self._on_message = on_message
        self._on_status = on_status
        self._max_backoff_s = max_backoff_s
        self._outgoing: queue.Queue[agent_desk_pb2.AgentMessage | None] = queue.Queue()
        self._lock = threading.Lock()
        self._call: grpc.Call | None = None

    def send(self, message: agent_desk_pb2.AgentMessage) -> None:
        with self._lock:
            self._outgoing.put(message)

    def run(self, stop: threading.Event) -> None:
        """Keep a stream open until `stop`; each new stream logs in again and gets its assignments back."""
        threading.Thread(target=self._close_when, args=(stop,), name="desk-link-stop", daemon=True).start()
        backoff_s = 0.2
        with self._channel:
            stub = agent_desk_pb2_grpc.AgentDeskStub(self._channel)
            while not stop.is_set():
                if self._session(stub, stop):
                    backoff_s = 0.2
                if stop.wait(backoff_s):
                    break
                backoff_s = min(backoff_s * 2, self._max_backoff_s)

    def _close_when(self, stop: threading.Event) -> None:
        stop.wait()
        self.close()

    def close(self) -> None:
        with self._lock:
            self._outgoing.put(_END)
            if self._call is not None:
                self._call.cancel()

    def _session(self, stub: agent_desk_pb2_grpc.AgentDeskStub, stop: threading.Event) -> bool:
        """One stream from login to its end; True when the login was accepted."""
        with self._lock:
            self._outgoing = queue.Queue()  # nothing queued for a dead stream is sent on the next one
            self._outgoing.put(
                agent_desk_pb2.AgentMessage(login=agent_desk_pb2.Login(agent_id=self.agent_id, token=self._token))
            )
            call = self._call = stub.Connect(self._requests(self._outgoing))
        logged_in = False
        try:
            for message in call:
                logged_in = logged_in or message.WhichOneof("kind") == "login_accepted"
                self._on_message(message)
            if not stop.is_set():
                self._on_status("the router closed the stream; reconnecting")
        except grpc.RpcError as error:
            if not stop.is_set():
                self._on_status(f"disconnected ({error.code().name}); reconnecting")
        return logged_in

    @staticmethod
    def _requests(outgoing: queue.Queue[agent_desk_pb2.AgentMessage | None]) -> Iterator[agent_desk_pb2.AgentMessage]:
        while (message := outgoing.get()) is not _END:
            assert message is not None
            yield message
