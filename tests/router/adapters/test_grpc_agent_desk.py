"""AgentDesk through the real thing: a router subprocess, the real broker and a real gRPC stream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from support.pii import assert_no_pii, telemetry_texts

from contactrouting.agent_tokens import issue_token
from contactrouting.kafka_io import ConsumedRecord
from contactrouting.topics import CONTACTS_OUTBOUND
from contactrouting.v1 import agent_desk_pb2, contact_pb2, routing_pb2

from .harness import Desk, Kafka, RouterUnderTest, agent_profile, contact_event, events_of, logged_in, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType


@pytest.fixture(scope="module", autouse=True)
def _tracer_provider() -> None:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"))
    under_test.start()
    yield under_test
    assert under_test.stop() == 0, under_test.log_text()[-3000:]


def router_spans(var_dir: Path, trace_id: str, name: str, timeout_s: float = 10.0) -> list[dict[str, object]]:
    path = var_dir / "traces" / "router.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            spans = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            found = [s for s in spans if s["trace_id"] == trace_id and s["name"] == name]
            if found:
                return found
        time.sleep(0.2)
    return []


def test_contact_is_offered_accepted_and_logged_in_one_trace(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    desk = logged_in(router, desks, kafka, skill)
    event = contact_event(skill)
    with trace.get_tracer("test").start_as_current_span("gateway receive") as span:
        kafka.publish_contact(event)
        trace_id = format(span.get_span_context().trace_id, "032x")

    offer = desk.next("offer")
    assert offer.offer.contact == event
    assert offer.offer.queue == "general"
    assert offer.offer.decision.chosen_agent_id == desk.agent_id
    assert offer.offer.decision.candidates_considered >= 1
    assert offer.traceparent.split("-")[1] == trace_id, "the offer must continue the gateway's trace"

    desk.accept(offer)
    assignment = desk.next("assignment")
    assert assignment.assignment.contact_id == event.contact_id
    assert assignment.assignment.contact == event

    events = events_of(kafka, event.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_ASSIGNED in types)
    types = [e.type for e in events]
    assert types == [
        RET.ROUTING_EVENT_TYPE_QUEUED,
        RET.ROUTING_EVENT_TYPE_OFFERED,
        RET.ROUTING_EVENT_TYPE_ACCEPTED,
        RET.ROUTING_EVENT_TYPE_ASSIGNED,
    ]
    assert events[0].contact == event, "QUEUED carries the whole contact, for recovery"
    assert all(e.decision.relaxation_step or e.decision.summary for e in events), "every event carries a decision"
    assert all(e.decision.chosen_agent_id == desk.agent_id for e in events[1:])
    assert events[1].offer_id == events[2].offer_id == offer.offer.offer_id
    assert router_spans(router.var_dir, trace_id, "agent accept"), "the agent's accept must join the contact's trace"


def test_reply_goes_to_contacts_outbound_and_complete_closes_the_contact(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    desk = logged_in(router, desks, kafka, skill)
    event = contact_event(skill, channel=contact_pb2.CHANNEL_TELEGRAM)
    kafka.publish_contact(event)
    offer = desk.next("offer")
    desk.accept(offer)
    desk.next("assignment")

    reply = agent_desk_pb2.SendReply(contact_id=event.contact_id, body_text="Pozdrav, riješeno je.")
    desk.send(agent_desk_pb2.AgentMessage(reply=reply, traceparent=offer.traceparent))

    def replies(records: list[ConsumedRecord]) -> list[ConsumedRecord]:
        return [
            r
            for r in records
            if isinstance(r.message, contact_pb2.OutboundMessage) and r.message.contact_id == event.contact_id
        ]

    [outbound] = replies(kafka.read(CONTACTS_OUTBOUND, contact_pb2.OutboundMessage, lambda rs: bool(replies(rs))))
    assert outbound.key == event.conversation_id
    message = outbound.message
    assert isinstance(message, contact_pb2.OutboundMessage)
    assert (message.channel, message.agent_id, message.body_text) == (
        contact_pb2.CHANNEL_TELEGRAM,
        desk.agent_id,
        "Pozdrav, riješeno je.",
    )
    assert message.customer == event.customer
    assert message.in_reply_to == event.source
    assert message.kind == contact_pb2.OUTBOUND_KIND_AGENT_REPLY

    done = agent_desk_pb2.CompleteContact(contact_id=event.contact_id, disposition="solved", wrap_up_summary="ok")
    desk.send(agent_desk_pb2.AgentMessage(complete=done, traceparent=offer.traceparent))
    assert desk.next("contact_closed").contact_closed.disposition == "solved"
    events = events_of(kafka, event.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_COMPLETED in types)
    completed = events[-1]
    assert (completed.type, completed.agent_id, completed.disposition, completed.wrap_up_summary) == (
        RET.ROUTING_EVENT_TYPE_COMPLETED,
        desk.agent_id,
        "solved",
        "ok",
    )


def test_reject_reoffers_to_the_next_agent(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    first, second = logged_in(router, desks, kafka, skill), logged_in(router, desks, kafka, skill)
    event = contact_event(skill)
    kafka.publish_contact(event)
    offers = {desk.agent_id: desk.maybe_next("offer", timeout_s=5) for desk in (first, second)}
    [(rejecting_id, offer)] = [(agent_id, offer) for agent_id, offer in offers.items() if offer is not None]
    rejecting, other = (first, second) if rejecting_id == first.agent_id else (second, first)
    rejection = agent_desk_pb2.RejectOffer(offer_id=offer.offer.offer_id, reason="busy")
    rejecting.send(agent_desk_pb2.AgentMessage(reject=rejection, traceparent=offer.traceparent))
    assert other.next("offer").offer.contact.contact_id == event.contact_id


def test_replying_to_a_contact_of_someone_else_is_refused(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    desk = logged_in(router, desks, kafka, unique("skill"))
    desk.send(agent_desk_pb2.AgentMessage(reply=agent_desk_pb2.SendReply(contact_id="not-mine", body_text="hi")))
    assert desk.next("error").error.code == "not_owner"


def test_unknown_agent_is_refused_and_the_stream_ends(
    router: RouterUnderTest, desks: Callable[[str, str], Desk]
) -> None:
    desk = desks(router.target, unique("nobody"))
    assert desk.next("error").error.code == "unknown_agent"
    assert desk.ended.wait(5)


def test_the_first_message_must_be_a_login(router: RouterUnderTest) -> None:
    import grpc

    from contactrouting.v1 import agent_desk_pb2_grpc

    with grpc.insecure_channel(router.target) as channel:
        presence = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE)
        responses = list(
            agent_desk_pb2_grpc.AgentDeskStub(channel).Connect(iter([agent_desk_pb2.AgentMessage(presence=presence)]))
        )
    assert [r.error.code for r in responses] == ["login_required"]


def test_an_agent_dropping_mid_offer_gets_the_contact_reoffered_to_another(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    leaving = logged_in(router, desks, kafka, skill)
    event = contact_event(skill)
    kafka.publish_contact(event)
    first_offer = leaving.next("offer")
    staying = logged_in(router, desks, kafka, skill)
    leaving.close()

    reoffer = staying.next("offer")
    assert reoffer.offer.contact.contact_id == event.contact_id
    assert reoffer.offer.offer_id != first_offer.offer.offer_id
    events = events_of(kafka, event.contact_id, lambda types: types.count(RET.ROUTING_EVENT_TYPE_OFFERED) == 2)
    rescinded = [e for e in events if e.type == RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED]
    assert [(e.agent_id, e.reason) for e in rescinded] == [(leaving.agent_id, "agent_offline")]
    assert [e.agent_id for e in events if e.type == RET.ROUTING_EVENT_TYPE_OFFERED] == [
        leaving.agent_id,
        staying.agent_id,
    ]


def test_presence_away_stops_offers_until_available_again(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    desk = logged_in(router, desks, kafka, skill)
    away = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AWAY, reason_code="break")
    desk.send(agent_desk_pb2.AgentMessage(presence=away))
    changed = desk.next("presence_changed").presence_changed
    assert (changed.presence, changed.reason_code) == (agent_desk_pb2.PRESENCE_AWAY, "break")
    event = contact_event(skill)
    kafka.publish_contact(event)
    events_of(kafka, event.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_QUEUED in types)
    assert desk.maybe_next("offer", timeout_s=1.0) is None, "an away agent gets no offer"

    available = agent_desk_pb2.SetPresence(presence=agent_desk_pb2.PRESENCE_AVAILABLE)
    desk.send(agent_desk_pb2.AgentMessage(presence=available))
    assert desk.next("offer").offer.contact.contact_id == event.contact_id


def test_with_a_token_secret_only_signed_logins_get_in(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    secret = "router-test-secret-" + unique("s")
    agent_id = unique("agent")
    kafka.publish_agent(agent_profile(agent_id, unique("skill")))
    guarded = router_factory(extra_env={"AGENT_TOKEN_SECRET": secret})
    guarded.start()

    unsigned = desks(guarded.target, agent_id)
    assert unsigned.next("error").error.code == "invalid_token"
    assert unsigned.ended.wait(5)
    signed = Desk(guarded.target, agent_id, token=issue_token(agent_id, secret, 600, time.time()))
    try:
        assert signed.next("login_accepted").login_accepted.agent_id == agent_id
    finally:
        signed.close()


def test_no_customer_data_in_the_routers_logs_or_spans(router: RouterUnderTest) -> None:
    """Runs last in this module: by now the router has routed, offered, replied and completed contacts."""
    time.sleep(1.0)  # the span exporter writes in batches every 0.5 s
    sample = contact_event("any")
    texts = telemetry_texts(router.var_dir)
    assert any('"router offer"' in text for _, text in texts), "the spans must be among the texts scanned"
    assert_no_pii(
        texts,
        [sample.customer.handle, sample.customer.display_name, sample.body_text, "Pozdrav, riješeno je."],
    )
