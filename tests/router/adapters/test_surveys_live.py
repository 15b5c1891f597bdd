"""Surveys through the real router process and the real broker: a completed contact yields exactly one survey on
contacts.outbound and one SURVEY_SENT; the customer's next contact within cap_days yields none, also after
restarts; a survey due while the router was down goes out after recovery."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.prometheus import labels, samples, scrape

from contactrouting.kafka_io import ProtoConsumer
from contactrouting.survey_tickets import verify_ticket
from contactrouting.topics import CONTACTS_OUTBOUND, ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, contact_pb2, routing_pb2
from devstack.ports import free_port

from .harness import Desk, Kafka, RouterUnderTest, agent_profile, contact_event, events_of, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType
SECRET = "integration-test-feedback-secret"
POLICY = """
default_queue: general
queues:
  - name: general
    sla_s: {{default: 3600}}
    survey: {{enabled: true, scales: [csat, nps], delay_s: {delay_s}, cap_days: 30, answer_window_h: 1}}
"""


def survey_router(
    router_factory: Callable[..., RouterUnderTest], delay_s: float, metrics_port: int = 0
) -> RouterUnderTest:
    router = router_factory(extra_env={"FEEDBACK_TOKEN_SECRET": SECRET, "METRICS_PORT": str(metrics_port)})
    router.write_policy(POLICY.format(delay_s=delay_s))
    router.start()
    return router


def handle(desk: Desk, kafka: Kafka, event: contact_pb2.ContactEvent) -> None:
    """The contact arrives, the agent accepts and completes it; returns once the desk has closed it."""
    kafka.publish_contact(event)
    offer = desk.next("offer", timeout_s=30)
    assert offer.offer.contact.contact_id == event.contact_id
    desk.accept(offer)
    desk.next("assignment")
    complete = agent_desk_pb2.CompleteContact(contact_id=event.contact_id, disposition="resolved")
    desk.send(agent_desk_pb2.AgentMessage(complete=complete, traceparent=offer.traceparent))
    desk.next("contact_closed")


def read_all(kafka: Kafka, topic: str, message_type: Any, timeout_s: float = 30.0) -> list[Any]:
    """Every message of the topic up to its end as of now."""
    consumer = ProtoConsumer(kafka.settings, {topic: message_type}, client_id=unique("reader"), subscribe=False)
    try:
        end = consumer.assign_from_beginning()
        messages: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while not all(consumer.position(partition) >= offset for partition, offset in end.items()):
            assert time.monotonic() < deadline, f"{topic} not read to its end"
            messages.extend(r.message for r in consumer.poll(timeout_ms=200))
        return messages
    finally:
        consumer.close()


def surveys_of(kafka: Kafka, contact_id: str) -> list[contact_pb2.OutboundMessage]:
    outbound = read_all(kafka, CONTACTS_OUTBOUND, contact_pb2.OutboundMessage)
    return [m for m in outbound if m.contact_id == contact_id and m.kind == contact_pb2.OUTBOUND_KIND_SURVEY]


def survey_sent_of(kafka: Kafka, contact_id: str) -> list[routing_pb2.RoutingEvent]:
    events = read_all(kafka, ROUTING_EVENTS, routing_pb2.RoutingEvent)
    return [e for e in events if e.contact_id == contact_id and e.type == RET.ROUTING_EVENT_TYPE_SURVEY_SENT]


def await_survey_sent(kafka: Kafka, contact_id: str) -> None:
    types = [e.type for e in events_of(kafka, contact_id, lambda types: RET.ROUTING_EVENT_TYPE_SURVEY_SENT in types)]
    assert RET.ROUTING_EVENT_TYPE_SURVEY_SENT in types, f"no SURVEY_SENT for {contact_id}: {types}"


def logged(router: RouterUnderTest, event: str, timeout_s: float = 30.0, nth: int = 1, **fields: Any) -> dict[str, Any]:
    """The router's `nth` JSON log line of `event` with these fields (over all its runs), waited for."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = []
        for line in router.log_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == event and all(entry.get(k) == v for k, v in fields.items()):
                found.append(entry)
        if len(found) >= nth:
            return dict(found[nth - 1])
        assert time.monotonic() < deadline, f"no {event} {fields} in the router log:\n{router.log_text()[-3000:]}"
        time.sleep(0.1)


def same_customer(first: contact_pb2.ContactEvent, skill: str) -> contact_pb2.ContactEvent:
    event = contact_event(skill)
    event.customer.CopyFrom(first.customer)
    return event


def logged_in_desk(router: RouterUnderTest, desks: Callable[[str, str], Desk], agent_id: str) -> Desk:
    desk = desks(router.target, agent_id)
    desk.next("login_accepted")
    return desk


def test_one_survey_per_completed_contact_and_none_again_within_the_cap(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill, agent_id = unique("skill"), unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill, languages=("en", "hr", "sk")))
    metrics_port = free_port()
    router = survey_router(router_factory, delay_s=0.5, metrics_port=metrics_port)
    desk = logged_in_desk(router, desks, agent_id)

    first = contact_event(skill, language="hr")
    completed_at = time.time()
    handle(desk, kafka, first)
    await_survey_sent(kafka, first.contact_id)
    second = same_customer(first, skill)
    handle(desk, kafka, second)
    skipped = logged(router, "survey_skipped", contact_id=second.contact_id)
    assert skipped["reason"] == "surveyed_recently"

    [survey] = surveys_of(kafka, first.contact_id)
    assert survey.channel == first.channel and survey.customer == first.customer
    assert (survey.conversation_id, survey.language, survey.agent_id) == (first.conversation_id, "hr", agent_id)
    assert survey.in_reply_to == first.source
    assert survey.subject == "Kako smo vam pomogli?"
    assert survey.body_text.startswith("Vaš je upit riješen.")  # an email: the questions come with the links
    assert list(survey.quick_replies) == ["1", "2", "3", "4", "5"]
    assert list(survey.survey.scales) == [contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS]
    ticket = verify_ticket(survey.survey.ticket, SECRET, time.time())
    assert (ticket.contact_id, ticket.agent_id, ticket.queue, ticket.survey_id) == (
        first.contact_id,
        agent_id,
        "general",
        survey.survey.survey_id,
    )
    sent_after_s = survey.created_at.ToMilliseconds() / 1000 - completed_at
    assert 0.5 <= sent_after_s < 10, "sent delay_s after completion"
    assert ticket.expires_at.seconds - survey.created_at.seconds == pytest.approx(3600, abs=1)

    [sent] = survey_sent_of(kafka, first.contact_id)
    assert (sent.agent_id, sent.queue, sent.channel, sent.language) == (agent_id, "general", first.channel, "hr")
    assert sent.customer_id == first.customer.customer_id
    assert surveys_of(kafka, second.contact_id) == [] and survey_sent_of(kafka, second.contact_id) == []
    assert samples(scrape(metrics_port), "routing_surveys_total") == {
        labels(queue="general", outcome="sent"): 1,
        labels(queue="general", outcome="surveyed_recently"): 1,
    }


def test_a_survey_due_while_the_router_was_down_goes_out_once_and_the_cap_survives_restarts(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill, agent_id = unique("skill"), unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill, languages=("en", "hr", "sk")))
    router = survey_router(router_factory, delay_s=5)
    first = contact_event(skill, language="sk")
    handle(logged_in_desk(router, desks, agent_id), kafka, first)
    logged(router, "survey_planned", contact_id=first.contact_id)
    # Planned surveys live in memory only: stopped now, the router forgets this one (due 5 s after completion)
    # and has to find it again in routing.events.
    assert router.stop() == 0
    assert survey_sent_of(kafka, first.contact_id) == []

    router.port = free_port()
    router.start()
    assert logged(router, "routing_state_recovered", surveys_due=1)
    await_survey_sent(kafka, first.contact_id)
    [survey] = surveys_of(kafka, first.contact_id)
    assert survey.subject == "Ako sme vám pomohli?"
    # Stop only once this run has joined the inbound group: a member leaving mid-join stalls the next one's join.
    logged(router, "inbound_partitions_assigned", timeout_s=30, nth=2)
    assert router.stop() == 0

    router.port = free_port()
    router.start()  # the cap now comes from SURVEY_SENT in routing.events alone
    second = same_customer(first, skill)
    handle(logged_in_desk(router, desks, agent_id), kafka, second)
    assert logged(router, "survey_skipped", contact_id=second.contact_id)["reason"] == "surveyed_recently"
    assert len(surveys_of(kafka, first.contact_id)) == 1 and len(survey_sent_of(kafka, first.contact_id)) == 1
    assert surveys_of(kafka, second.contact_id) == []


def test_without_a_feedback_secret_the_router_says_so_once_and_sends_no_survey(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill, agent_id = unique("skill"), unique("agent")
    kafka.publish_agent(agent_profile(agent_id, skill))
    router = router_factory(extra_env={"FEEDBACK_TOKEN_SECRET": ""})
    router.write_policy(POLICY.format(delay_s=0))
    router.start()
    event = contact_event(skill)
    handle(logged_in_desk(router, desks, agent_id), kafka, event)
    assert logged(router, "surveys_disabled")["hint"] == "set FEEDBACK_TOKEN_SECRET to send satisfaction surveys"
    time.sleep(1.0)  # a survey with delay_s 0 would be sent on the next tick (0.2 s)
    assert surveys_of(kafka, event.contact_id) == [] and survey_sent_of(kafka, event.contact_id) == []
    entries = [line for line in router.log_text().splitlines() if '"surveys_disabled"' in line]
    assert len(entries) == 1 and "survey_" not in router.log_text().replace("surveys_disabled", "")
