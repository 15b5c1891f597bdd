"""The switchboard with the real engine and a recording publisher: what reaches routing.events and the desks."""

from __future__ import annotations

from typing import Any, cast

import pytest
from opentelemetry import context as otel_context

from contactrouting.v1 import agent_desk_pb2, contact_pb2, routing_pb2
from services.router.adapters.contact_mapping import timestamp
from services.router.adapters.desk_session import DeskSession
from services.router.adapters.kafka_publisher import RouterPublisher
from services.router.adapters.switchboard import Switchboard
from services.router.domain import AgentSpec, RoutingEngine, parse_policy

RET = routing_pb2.RoutingEventType
NOW = 1_800_000_000.0


class Acked:
    def get(self, timeout: float | None = None) -> Any:
        return None


class RecordingPublisher:
    def __init__(self) -> None:
        self.routing_events: list[routing_pb2.RoutingEvent] = []
        self.outbound_messages: list[contact_pb2.OutboundMessage] = []

    def routing_event(self, event: routing_pb2.RoutingEvent) -> Acked:
        self.routing_events.append(event)
        return Acked()

    def outbound(self, message: contact_pb2.OutboundMessage, *, span: bool = True) -> Acked:
        self.outbound_messages.append(message)
        return Acked()

    def types(self, contact_id: str) -> list[int]:
        return [e.type for e in self.routing_events if e.contact_id == contact_id]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def board(publisher: RecordingPublisher) -> Switchboard:
    policy = parse_policy({"default_queue": "general", "queues": [{"name": "general"}]})
    switchboard = Switchboard(RoutingEngine(policy), cast(RouterPublisher, publisher), clock=lambda: NOW)
    for agent_id in ("ana", "marko"):
        switchboard.upsert_agent(
            AgentSpec(agent_id, {"general": 3}, frozenset({"hr"}), {"email": 2}, frozenset({"general"}), True)
        )
    return switchboard


def contact(contact_id: str) -> contact_pb2.ContactEvent:
    return contact_pb2.ContactEvent(
        contact_id=contact_id,
        conversation_id=f"conv-{contact_id}",
        channel=contact_pb2.CHANNEL_EMAIL,
        language="hr",
        subject="Račun",
        received_at=timestamp(NOW - 5),
    )


def drain(session: DeskSession) -> list[agent_desk_pb2.DeskMessage]:
    session.close()
    return list(session.messages())


def kinds(messages: list[agent_desk_pb2.DeskMessage]) -> list[str | None]:
    return [m.WhichOneof("kind") for m in messages]


def test_offer_accept_and_assignment_with_routing_events(board: Switchboard, publisher: RecordingPublisher) -> None:
    ana = DeskSession("ana")
    assert board.connect(ana)
    futures = board.enqueue(contact("c1"), otel_context.Context())
    assert len(futures) == 2, "QUEUED and OFFERED"
    assert publisher.routing_events[0].contact == contact("c1")
    offer_id = publisher.routing_events[1].offer_id

    board.accept(ana, offer_id, traceparent="")
    assert publisher.types("c1") == [
        RET.ROUTING_EVENT_TYPE_QUEUED,
        RET.ROUTING_EVENT_TYPE_OFFERED,
        RET.ROUTING_EVENT_TYPE_ACCEPTED,
        RET.ROUTING_EVENT_TYPE_ASSIGNED,
    ]
    assert all(e.decision.summary for e in publisher.routing_events), "every routing event carries a decision"
    messages = drain(ana)
    assert kinds(messages) == ["login_accepted", "offer", "assignment"]
    offer = messages[1].offer
    assert (offer.offer_id, offer.contact, offer.waiting_ms) == (offer_id, contact("c1"), 5000)
    assert messages[2].assignment.offer_id == offer_id


def test_an_offer_id_of_an_earlier_run_is_refused(board: Switchboard, publisher: RecordingPublisher) -> None:
    ana = DeskSession("ana")
    board.connect(ana)
    board.enqueue(contact("c1"), otel_context.Context())
    engine_offer_id, _, _ = publisher.routing_events[1].offer_id.rpartition("~")
    board.accept(ana, f"{engine_offer_id}~0ldrun00", traceparent="")
    assert RET.ROUTING_EVENT_TYPE_ACCEPTED not in publisher.types("c1")
    assert drain(ana)[-1].error.code == "unknown_offer"


def test_a_second_login_replaces_the_first_and_gets_its_pending_offer_again(
    board: Switchboard, publisher: RecordingPublisher
) -> None:
    first, second = DeskSession("ana"), DeskSession("ana")
    board.connect(first)
    board.enqueue(contact("c1"), otel_context.Context())
    board.connect(second)
    assert first.closed
    assert kinds(drain(first)) == ["login_accepted", "offer", "error"]
    board.disconnect(first)  # the old stream's end, reported late, changes nothing
    board.enqueue(contact("c2"), otel_context.Context())
    assert kinds(drain(second)) == ["login_accepted", "offer"]
    offers = [e for e in publisher.routing_events if e.type == RET.ROUTING_EVENT_TYPE_OFFERED]
    assert [(e.contact_id, e.agent_id) for e in offers] == [("c1", "ana"), ("c1", "ana")]
    assert offers[0].offer_id != offers[1].offer_id


def test_a_redelivered_contact_is_not_routed_twice(board: Switchboard, publisher: RecordingPublisher) -> None:
    board.enqueue(contact("c1"), otel_context.Context())
    assert board.enqueue(contact("c1"), otel_context.Context()) == []
    assert publisher.types("c1") == [RET.ROUTING_EVENT_TYPE_QUEUED]


def test_only_the_assigned_agent_may_reply(board: Switchboard, publisher: RecordingPublisher) -> None:
    ana, marko = DeskSession("ana"), DeskSession("marko")
    board.connect(ana)
    board.enqueue(contact("c1"), otel_context.Context())
    board.accept(ana, publisher.routing_events[1].offer_id, traceparent="")
    board.connect(marko)
    board.reply(marko, "c1", "not mine", traceparent="")
    board.reply(ana, "c1", "Pozdrav", traceparent="")
    assert [(m.agent_id, m.body_text, m.subject) for m in publisher.outbound_messages] == [
        ("ana", "Pozdrav", "Re: Račun")
    ]
    assert drain(marko)[-1].error.code == "not_owner"


def test_an_unknown_agent_is_refused_at_login(board: Switchboard) -> None:
    ghost = DeskSession("ghost")
    assert not board.connect(ghost)
    assert [m.error.code for m in drain(ghost)] == ["unknown_agent"]


def test_a_deleted_profile_ends_the_agents_stream_and_requeues_its_offer(
    board: Switchboard, publisher: RecordingPublisher
) -> None:
    ana = DeskSession("ana")
    board.connect(ana)
    board.enqueue(contact("c1"), otel_context.Context())
    board.remove_agent("ana")
    assert ana.closed
    assert kinds(drain(ana))[-2:] == ["offer_rescinded", "error"]
    assert publisher.types("c1")[-1] == RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED
