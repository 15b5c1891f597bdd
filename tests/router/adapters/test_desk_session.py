"""A desk session holds each message until the routing events it depends on are acknowledged."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

from kafka.future import Future
from kafka.producer.future import FutureRecordMetadata

from contactrouting.v1 import agent_desk_pb2
from services.router.adapters.desk_session import DeskSession


class Ack:
    """Stands in for a produce future: `get` blocks until the test acknowledges or fails it."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._error: Exception | None = None

    def resolve(self, error: Exception | None = None) -> None:
        self._error = error
        self._done.set()

    def get(self, timeout: float | None = None) -> Any:
        if not self._done.wait(timeout):
            raise TimeoutError("not acknowledged")
        if self._error is not None:
            raise self._error
        return None


def closed(contact_id: str) -> agent_desk_pb2.DeskMessage:
    return agent_desk_pb2.DeskMessage(contact_closed=agent_desk_pb2.ContactClosed(contact_id=contact_id))


def test_a_message_waits_for_its_routing_events_and_order_is_kept() -> None:
    session = DeskSession("ana")
    ack = Ack()
    session.send(closed("c1"), after=[cast(FutureRecordMetadata, ack)])
    session.send(closed("c2"))
    session.close()
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.extend(m.contact_closed.contact_id for m in session.messages()))
    reader.start()
    reader.join(0.2)
    assert received == [], "nothing may pass before the ack"
    ack.resolve()
    reader.join(2)
    assert received == ["c1", "c2"]


def test_a_failed_ack_ends_the_stream_without_the_message() -> None:
    session = DeskSession("ana", ack_timeout_s=1)
    ack = Ack()
    ack.resolve(RuntimeError("broker down"))
    session.send(closed("c1"), after=[cast(FutureRecordMetadata, ack)])
    assert list(session.messages()) == []


def test_a_client_that_stops_reading_is_dropped() -> None:
    session = DeskSession("ana", max_pending=3)
    for number in range(5):
        session.send(closed(f"c{number}"))
    assert session.closed
    assert list(session.messages()) == []


def test_an_asyncio_stream_waits_for_acks_and_wakes_on_messages_from_other_threads() -> None:
    async def scenario() -> list[str]:
        session = DeskSession("ana")
        ack = Future()
        received: list[str] = []

        async def drain() -> None:
            async for message in session.stream():
                received.append(message.contact_closed.contact_id)

        stream = asyncio.create_task(drain())
        await asyncio.sleep(0.05)
        sender = threading.Thread(target=lambda: session.send(closed("c1"), after=[cast(FutureRecordMetadata, ack)]))
        sender.start()
        sender.join()
        session.send(closed("c2"))
        await asyncio.sleep(0.1)
        assert received == [], "nothing may pass before the ack"
        threading.Thread(target=ack.success, args=(None,)).start()  # acks arrive on the producer's I/O thread
        threading.Thread(target=session.close).start()
        await asyncio.wait_for(stream, 2)
        return received

    assert asyncio.run(scenario()) == ["c1", "c2"]


def test_a_failed_ack_ends_an_asyncio_stream_without_the_message() -> None:
    async def scenario() -> list[agent_desk_pb2.DeskMessage]:
        session = DeskSession("ana", ack_timeout_s=1)
        session.send(closed("c1"), after=[cast(FutureRecordMetadata, Future().failure(RuntimeError("broker down")))])
        session.send(closed("c2"))
        return [message async for message in session.stream()]

    assert asyncio.run(scenario()) == []
