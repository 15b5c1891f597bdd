"""Routing events of one contact that was offered, timed out, re-offered, accepted, answered and completed."""

from __future__ import annotations

import uuid

from google.protobuf.timestamp_pb2 import Timestamp

from contactrouting.v1 import contact_pb2, routing_pb2

RET = routing_pb2.RoutingEventType
BASE = 1_795_000_000.0  # 2026-11-18T11:06:40Z


def stamp(seconds: float) -> Timestamp:
    value = Timestamp()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


def routing_event(
    contact_id: str, kind: int, at: float, *, conversation_id: str = "", **fields: object
) -> routing_pb2.RoutingEvent:
    return routing_pb2.RoutingEvent(
        event_id=uuid.uuid4().hex,
        contact_id=contact_id,
        conversation_id=conversation_id or f"conv-{contact_id}",
        type=kind,  # type: ignore[arg-type]
        occurred_at=stamp(at),
        queue="billing",
        priority=5,
        channel=contact_pb2.CHANNEL_EMAIL,
        language="hr",
        sla_deadline=stamp(BASE + 60),
        **fields,  # type: ignore[arg-type]
    )


def decision(agent_id: str, summary: str) -> routing_pb2.DecisionRecord:
    return routing_pb2.DecisionRecord(
        candidates_considered=3,
        filtered_out=[routing_pb2.FilterCount(reason="offline", count=2)],
        chosen_agent_id=agent_id,
        score=0.9,
        relaxation_step="exact",
        summary=summary,
    )


def offered_timed_out_reoffered_accepted_completed(
    contact_id: str, customer_id: str = "cust-1", base: float = BASE
) -> list[routing_pb2.RoutingEvent]:
    contact = contact_pb2.ContactEvent(
        contact_id=contact_id,
        conversation_id=f"conv-{contact_id}",
        channel=contact_pb2.CHANNEL_EMAIL,
        received_at=stamp(base),
        customer=contact_pb2.Customer(customer_id=customer_id),
        language="hr",
        queue="billing",
    )
    return [
        routing_event(contact_id, RET.ROUTING_EVENT_TYPE_QUEUED, base + 0.1, contact=contact),
        routing_event(
            contact_id,
            RET.ROUTING_EVENT_TYPE_OFFERED,
            base + 0.2,
            agent_id="a-1",
            offer_id="o-1",
            attempt=1,
            decision=decision("a-1", "best skill match"),
        ),
        routing_event(
            contact_id,
            RET.ROUTING_EVENT_TYPE_OFFER_TIMED_OUT,
            base + 30.2,
            agent_id="a-1",
            offer_id="o-1",
            reason="offer_timeout",
        ),
        routing_event(
            contact_id,
            RET.ROUTING_EVENT_TYPE_OFFERED,
            base + 30.3,
            agent_id="a-2",
            offer_id="o-2",
            attempt=2,
            decision=decision("a-2", "next best after a missed offer"),
        ),
        routing_event(contact_id, RET.ROUTING_EVENT_TYPE_ACCEPTED, base + 42.0, agent_id="a-2", offer_id="o-2"),
        routing_event(contact_id, RET.ROUTING_EVENT_TYPE_ASSIGNED, base + 42.0, agent_id="a-2", offer_id="o-2"),
        routing_event(contact_id, RET.ROUTING_EVENT_TYPE_REPLY_SENT, base + 100.0, agent_id="a-2"),
        routing_event(
            contact_id, RET.ROUTING_EVENT_TYPE_COMPLETED, base + 300.0, agent_id="a-2", disposition="resolved"
        ),
    ]
