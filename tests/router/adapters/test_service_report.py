"""Service reports through a real router: a contact answered and completed on a real desk, the gateway's REPLY_SENT
and survey answers on the real broker, read back from RoutingAdmin.GetServiceReport and the Prometheus scrape,
and again after a restart (rebuilt from routing.events and contacts.feedback)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import grpc
import pytest
from support.prometheus import labels, samples, scrape

from contactrouting.topics import CONTACTS_FEEDBACK, ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc, contact_pb2, feedback_pb2, routing_pb2
from devstack.ports import free_port

from .harness import Desk, Kafka, RouterUnderTest, contact_event, events_of, logged_in, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType
ADMIN_TOKEN = "service-report-admin-token"
AUTHORIZED = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
FIRST_REPLY_AFTER_S = 42.0


def feedback(contact_id: str, scale: int, rating: int, **fields: object) -> feedback_pb2.FeedbackEvent:
    event = feedback_pb2.FeedbackEvent(
        event_id=uuid.uuid4().hex,
        survey_id=f"survey-{contact_id}",
        contact_id=contact_id,
        scale=scale,  # type: ignore[arg-type]
        rating=rating,
        source=feedback_pb2.FEEDBACK_SOURCE_RATING_LINK,
        **fields,  # type: ignore[arg-type]
    )
    event.answered_at.GetCurrentTime()
    return event


def report(target: str, group_by: str, metadata: tuple[tuple[str, str], ...] = AUTHORIZED):  # type: ignore[no-untyped-def]
    with grpc.insecure_channel(target) as channel:
        stub = agent_desk_pb2_grpc.RoutingAdminStub(channel)
        return stub.GetServiceReport(
            agent_desk_pb2.GetServiceReportRequest(group_by=group_by), metadata=metadata, timeout=5
        )


def wait_for_row(target: str, key: str, done: Callable[[agent_desk_pb2.ServiceReportRow], bool]):  # type: ignore[no-untyped-def]
    """Facts reach the router on three topics read by separate threads: a report is consistent only eventually."""
    deadline = time.monotonic() + 30
    while True:
        rows = {row.key: row for row in report(target, "queue").rows}
        if key in rows and done(rows[key]):
            return rows[key]
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)


def everything_known(row: agent_desk_pb2.ServiceReportRow) -> bool:
    return (row.completed, row.first_responses, row.csat_responses, row.nps_responses) == (1, 1, 2, 1)


def test_csat_nps_first_response_and_resolution_from_a_real_contact_and_its_answers(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    metrics_port = free_port()
    env = {"ROUTER_ADMIN_TOKEN": ADMIN_TOKEN, "ROUTER_SERVICE_REFRESH_S": "0.2", "METRICS_PORT": str(metrics_port)}
    router = router_factory(extra_env=env)
    router.start()
    skill = unique("skill")
    desk = logged_in(router, desks, kafka, skill)
    contact = contact_event(skill)
    kafka.publish_contact(contact)
    desk.accept(desk.next("offer"))
    desk.next("assignment")
    # The email gateway's REPLY_SENT, 42 s after the mail arrived.
    reply = routing_pb2.RoutingEvent(
        event_id=uuid.uuid4().hex,
        contact_id=contact.contact_id,
        conversation_id=contact.conversation_id,
        type=RET.ROUTING_EVENT_TYPE_REPLY_SENT,
        agent_id=desk.agent_id,
        channel=contact.channel,
    )
    reply.occurred_at.FromNanoseconds(contact.received_at.ToNanoseconds() + int(FIRST_REPLY_AFTER_S * 1e9))
    kafka.producer.publish_and_wait(ROUTING_EVENTS, contact.contact_id, reply)
    complete = agent_desk_pb2.CompleteContact(contact_id=contact.contact_id, disposition="resolved")
    desk.send(agent_desk_pb2.AgentMessage(complete=complete))
    events_of(kafka, contact.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_COMPLETED in types)
    # Answers: CSAT 5 and NPS 6 for this contact, and CSAT 2 for a contact whose routing history the router never
    # saw (attributed by its ticket to the same queue, channel and language, completed just now).
    aged_out = unique("contact")
    ticket = {"queue": "general", "channel": contact_pb2.CHANNEL_EMAIL, "language": "hr", "agent_id": "agent-x"}
    for answer in (
        feedback(contact.contact_id, contact_pb2.SURVEY_SCALE_CSAT, 5),
        feedback(contact.contact_id, contact_pb2.SURVEY_SCALE_NPS, 6),
        feedback(aged_out, contact_pb2.SURVEY_SCALE_CSAT, 2, **ticket),
    ):
        answer.completed_at.GetCurrentTime()
        kafka.producer.publish_and_wait(CONTACTS_FEEDBACK, answer.contact_id, answer)

    general = wait_for_row(router.target, "general", everything_known)
    assert (general.csat_percent, general.nps_responses, general.nps) == (50.0, 1, -100.0)
    assert (general.first_responses, general.first_response_avg_s) == (1, pytest.approx(FIRST_REPLY_AFTER_S))
    assert 0 < general.resolution_avg_s == general.resolution_p90_s < 60
    assert (general.reopened, general.reopen_rate_percent) == (0, 0.0)
    by_agent = {row.key: row for row in report(router.target, "agent").rows}
    assert (by_agent[desk.agent_id].completed, by_agent[desk.agent_id].csat_percent) == (1, 100.0)
    assert (by_agent["agent-x"].completed, by_agent["agent-x"].csat_percent) == (0, 0.0)

    series = labels(queue="general", channel="email", language="hr")
    deadline = time.monotonic() + 20
    while not (
        samples(text := scrape(metrics_port), "service_csat_responses").get(series) == 2
        and series | {("statistic", "p90")} in samples(text, "service_first_response_time_seconds")
    ):
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    assert samples(text, "service_csat_percent")[series] == 50.0
    assert samples(text, "service_nps")[series] == -100.0
    assert samples(text, "service_completed")[series] == 1
    assert samples(text, "service_first_response_time_seconds")[series | {("statistic", "p90")}] == pytest.approx(42)
    assert samples(text, "service_reopen_rate_percent")[series] == 0.0
    assert not any("agent" in dict(key) for key in samples(text, "service_csat_percent"))

    router.stop()
    restarted = router_factory(extra_env=env)
    restarted.start()
    again = wait_for_row(restarted.target, "general", everything_known)
    assert again == general


def test_a_bad_grouping_or_a_missing_token_is_refused(router_factory: Callable[..., RouterUnderTest]) -> None:
    router = router_factory(extra_env={"ROUTER_ADMIN_TOKEN": ADMIN_TOKEN})
    router.start()
    with pytest.raises(grpc.RpcError) as refused:
        report(router.target, "customer")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "queue, agent, channel, language, all" in (refused.value.details() or "")
    with pytest.raises(grpc.RpcError) as anonymous:
        report(router.target, "queue", metadata=())
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with grpc.insecure_channel(router.target) as channel:
        backwards = agent_desk_pb2.GetServiceReportRequest(group_by="queue")
        backwards.since.FromSeconds(1_800_000_000)
        backwards.until.FromSeconds(1_700_000_000)
        with pytest.raises(grpc.RpcError) as reversed_range:
            agent_desk_pb2_grpc.RoutingAdminStub(channel).GetServiceReport(backwards, metadata=AUTHORIZED, timeout=5)
    assert reversed_range.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    (everything,) = report(router.target, "").rows
    assert everything.key == "all"


def test_the_range_selects_contacts_by_completion_and_is_echoed(
    router_factory: Callable[..., RouterUnderTest], kafka: Kafka
) -> None:
    # A contact queued and completed a minute ago, in routing.events before the router starts (it replays them).
    contact = contact_event(unique("skill"))
    for kind, age_s in ((RET.ROUTING_EVENT_TYPE_QUEUED, 60), (RET.ROUTING_EVENT_TYPE_COMPLETED, 30)):
        event = routing_pb2.RoutingEvent(
            event_id=uuid.uuid4().hex,
            contact_id=contact.contact_id,
            conversation_id=contact.conversation_id,
            type=kind,  # type: ignore[arg-type]
            queue="general",
            agent_id="agent-y",
            contact=contact if kind == RET.ROUTING_EVENT_TYPE_QUEUED else None,
        )
        event.occurred_at.FromSeconds(int(time.time()) - age_s)
        kafka.producer.publish_and_wait(ROUTING_EVENTS, contact.contact_id, event)
    router = router_factory(extra_env={"ROUTER_ADMIN_TOKEN": ADMIN_TOKEN})
    router.start()
    with grpc.insecure_channel(router.target) as channel:
        stub = agent_desk_pb2_grpc.RoutingAdminStub(channel)
        past = agent_desk_pb2.GetServiceReportRequest(group_by="all")
        past.since.FromSeconds(1_600_000_000)
        past.until.FromSeconds(1_700_000_000)
        recent = agent_desk_pb2.GetServiceReportRequest(group_by="all")
        recent.since.FromSeconds(int(time.time()) - 3600)
        old_response = stub.GetServiceReport(past, metadata=AUTHORIZED, timeout=5)
        recent_response = stub.GetServiceReport(recent, metadata=AUTHORIZED, timeout=5)
    assert (old_response.since, old_response.until) == (past.since, past.until)
    assert [row.completed for row in old_response.rows] == [0]
    assert not recent_response.HasField("until")
    assert recent_response.rows[0].completed >= 1


FEEDBACK_POLICY = """
default_queue: general
queues:
  - name: general
    required_skills: {%s: 1}
    sla_s: {default: 3600}
    feedback_routing: {enabled: true, weight: 0.5, window_days: 30, min_responses: 5}
"""


def test_with_feedback_routing_on_the_better_rated_agent_gets_the_offer(
    router_factory: Callable[..., RouterUnderTest], desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    router = router_factory(extra_env={"ROUTER_ADMIN_TOKEN": ADMIN_TOKEN})
    # The answers below are about contacts the router never saw: they count for their queue's skills.
    router.write_policy(FEEDBACK_POLICY % skill)
    router.start()
    longer_idle = logged_in(router, desks, kafka, skill)
    time.sleep(1.0)  # the longest-idle tie-breaker now prefers the first agent
    well_rated = logged_in(router, desks, kafka, skill)
    for n in range(5):
        answer = feedback(unique("earlier-contact"), contact_pb2.SURVEY_SCALE_CSAT, 5, agent_id=well_rated.agent_id)
        answer.survey_id = f"survey-{n}-{answer.contact_id}"
        answer.queue = "general"
        answer.completed_at.GetCurrentTime()
        kafka.producer.publish_and_wait(CONTACTS_FEEDBACK, answer.contact_id, answer)
    deadline = time.monotonic() + 20
    while (rows := {r.key: r for r in report(router.target, "agent").rows}).get(well_rated.agent_id) is None or rows[
        well_rated.agent_id
    ].csat_responses < 5:
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)

    kafka.publish_contact(contact_event(skill))

    offer = well_rated.next("offer").offer
    parts = {component.name: component.value for component in offer.decision.score_components}
    assert (parts["feedback"], parts["csat"], parts["csat_responses"]) == (0.5, 1.0, 5.0)
    assert longer_idle.maybe_next("offer", 0.5) is None
