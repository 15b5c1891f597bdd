"""One connected agent's outgoing stream: a queue written by the switchboard, drained by the gRPC response."""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass

import structlog
from kafka.producer.future import FutureRecordMetadata

from contactrouting.v1 import agent_desk_pb2

log = structlog.get_logger()


@dataclass(frozen=True)
class _Outgoing:
    message: agent_desk_pb2.DeskMessage
    # Routing events that must be durable before the agent may see this message (an assignment after its ACCEPTED).
    after: tuple[FutureRecordMetadata, ...]


_CLOSE = object()


class DeskSession:
    """Messages for one agent, in order. Holding them until their routing events are acked means a crash can
    never leave an agent working on a contact that routing.events does not show as theirs."""

    def __init__(self, agent_id: str, ack_timeout_s: float = 10.0, max_pending: int = 1000) -> None:
        self.agent_id = agent_id
        self.session_id = uuid.uuid4().hex[:12]
        self._outbox: queue.Queue[object] = queue.Queue()
        self._closed = threading.Event()
        self._ack_timeout_s = ack_timeout_s
        self._max_pending = max_pending
        self._abandoned = False
        # Set while an asyncio stream drains the session: wakes it after each message put from any thread.
        self._wake: Callable[[], None] | None = None

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def send(self, message: agent_desk_pb2.DeskMessage, after: Sequence[FutureRecordMetadata] = ()) -> None:
        if self._closed.is_set():
            return
        if self._outbox.qsize() >= self._max_pending:
            # A client that stopped reading must not grow the router's memory: drop it; it is then offline.
            log.warning("desk_session_abandoned", session=self.session_id, pending=self._max_pending)
            self._abandoned = True
            self.close()
            return
        self._outbox.put(_Outgoing(message, tuple(after)))
        if self._wake is not None:
            self._wake()

    def close(self) -> None:
        """Ends the stream after the messages already queued."""
        if not self._closed.is_set():
            self._closed.set()
            self._outbox.put(_CLOSE)
            if self._wake is not None:
                self._wake()

    def messages(self) -> Iterator[agent_desk_pb2.DeskMessage]:
        while True:
            item = self._outbox.get()
            if not isinstance(item, _Outgoing) or self._abandoned:
                return
            try:
                for future in item.after:
                    future.get(timeout=self._ack_timeout_s)
            except Exception as error:  # the router is failing; never show work the log does not hold
                log.error("desk_message_dropped_unacked", session=self.session_id, error=str(error))
                return
            yield item.message

    async def stream(self) -> AsyncIterator[agent_desk_pb2.DeskMessage]:
        """`messages` for an asyncio gRPC stream: waits without a thread of its own, on the running loop."""
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        ready = asyncio.Event()

        def wake() -> None:
            if threading.get_ident() == loop_thread:
                ready.set()
            else:
                loop.call_soon_threadsafe(ready.set)

        self._wake = wake
        try:
            while True:
                try:
                    item = self._outbox.get_nowait()
                except queue.Empty:
                    # A message put after get_nowait schedules ready.set() to run after this clear().
                    ready.clear()
                    await ready.wait()
                    continue
                if not isinstance(item, _Outgoing) or self._abandoned:
                    return
                if item.after and not await self._acknowledged(item.after):
                    return
                yield item.message
        finally:
            self._wake = None

    async def _acknowledged(self, futures: Sequence[FutureRecordMetadata]) -> bool:
        loop = asyncio.get_running_loop()
        try:
            for future in futures:
                if not future.is_done:
                    acked: asyncio.Future[None] = loop.create_future()

                    def resolve(_: object, acked: asyncio.Future[None] = acked) -> None:
                        loop.call_soon_threadsafe(_settle, acked)

                    future.add_both(resolve)
                    await asyncio.wait_for(acked, self._ack_timeout_s)
                if future.failed():
                    raise future.exception
        except Exception as error:  # the router is failing; never show work the log does not hold
            log.error("desk_message_dropped_unacked", session=self.session_id, error=str(error) or type(error).__name__)
            return False
        return True


def _settle(acked: asyncio.Future[None]) -> None:
    if not acked.done():
        acked.set_result(None)
