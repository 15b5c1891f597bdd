"""The chaos ledger's reading of one contact's history: what counts as an acceptance and as a release."""

from __future__ import annotations

from chaos.ledger import ContactHistory
from contactrouting.v1 import routing_pb2

RET = routing_pb2.RoutingEventType


def event(kind: int, agent_id: str = "", at_s: int = 0) -> routing_pb2.RoutingEvent:
    message = routing_pb2.RoutingEvent(contact_id="c-1", type=kind, agent_id=agent_id)  # type: ignore[arg-type]
    message.occurred_at.FromSeconds(at_s)
    return message


def test_a_survey_sent_is_neither_an_acceptance_nor_a_release() -> None:
    history = ContactHistory(
        "tok000000000001",
        [
            event(RET.ROUTING_EVENT_TYPE_QUEUED, at_s=1),
            event(RET.ROUTING_EVENT_TYPE_ACCEPTED, "a-1", at_s=2),
            event(RET.ROUTING_EVENT_TYPE_SURVEY_SENT, "a-1", at_s=3),
            event(RET.ROUTING_EVENT_TYPE_ACCEPTED, "a-2", at_s=4),
        ],
    )
    assert history.accepted_at() == [2.0, 4.0]
    assert history.held_twice(), "a survey does not release the contact, so a-2 accepted while a-1 held it"


def test_a_completed_and_surveyed_contact_is_held_once() -> None:
    history = ContactHistory(
        "tok000000000002",
        [
            event(RET.ROUTING_EVENT_TYPE_ACCEPTED, "a-1", at_s=2),
            event(RET.ROUTING_EVENT_TYPE_COMPLETED, "a-1", at_s=3),
            event(RET.ROUTING_EVENT_TYPE_SURVEY_SENT, "a-1", at_s=5),
        ],
    )
    assert history.accepted_at() == [2.0] and not history.held_twice()
