"""RoutingAdmin through a real router: queue statistics, contact explanations and policy hot reload."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import grpc
import pytest

from contactrouting.topics import ROUTING_EVENTS
from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc, routing_pb2

from .harness import Desk, Kafka, RouterUnderTest, contact_event, logged_in, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType

POLICY_WITH_VIP = """
default_queue: general
queues:
  - name: vip
    match: [{queue_hints: [vip]}]
    priority: 10
    sla_s: {default: 900}
  - name: general
    sla_s: {default: 3600}
"""


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"))
    under_test.start()
    yield under_test
    under_test.stop()


@pytest.fixture(scope="module")
def admin(router: RouterUnderTest) -> Iterator[agent_desk_pb2_grpc.RoutingAdminStub]:
    with grpc.insecure_channel(router.target) as channel:
        yield agent_desk_pb2_grpc.RoutingAdminStub(channel)


def explain(admin: agent_desk_pb2_grpc.RoutingAdminStub, contact_id: str) -> agent_desk_pb2.ExplainContactResponse:
    return admin.ExplainContact(agent_desk_pb2.ExplainContactRequest(contact_id=contact_id), timeout=5)


def wait_for(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_a_waiting_contact_shows_in_stats_and_its_explanation(
    router: RouterUnderTest, admin: agent_desk_pb2_grpc.RoutingAdminStub, kafka: Kafka
) -> None:
    event = contact_event(unique("nobody-has-this-skill"))
    kafka.publish_contact(event)
    wait_for(lambda: explain(admin, event.contact_id).state == "waiting")

    explanation = explain(admin, event.contact_id)
    assert explanation.queue_position >= 1
    assert [e.contact_id for e in explanation.history] == [event.contact_id]
    assert explanation.history[0].contact == event
    [general] = admin.GetQueueStats(agent_desk_pb2.GetQueueStatsRequest(queue="general"), timeout=5).queues
    assert general.waiting >= 1
    assert general.longest_waiting_ms >= 0


def test_an_assigned_contact_is_explained_with_its_decisions(
    router: RouterUnderTest,
    admin: agent_desk_pb2_grpc.RoutingAdminStub,
    desks: Callable[[str, str], Desk],
    kafka: Kafka,
) -> None:
    skill = unique("skill")
    desk = logged_in(router, desks, kafka, skill)
    event = contact_event(skill)
    kafka.publish_contact(event)
    desk.accept(desk.next("offer"))
    desk.next("assignment")

    wait_for(lambda: explain(admin, event.contact_id).state == "assigned")
    history = explain(admin, event.contact_id).history
    assert [e.agent_id for e in history][1:] == [desk.agent_id] * 3
    assert history[1].decision.chosen_agent_id == desk.agent_id
    assert history[1].decision.summary

    # The email gateway reports the reply it sent on routing.events; the explanation includes it.
    sent = routing_pb2.RoutingEvent(
        event_id=unique("event"), contact_id=event.contact_id, type=RET.ROUTING_EVENT_TYPE_REPLY_SENT
    )
    kafka.producer.publish_and_wait(ROUTING_EVENTS, event.contact_id, sent)
    wait_for(lambda: explain(admin, event.contact_id).history[-1].type == RET.ROUTING_EVENT_TYPE_REPLY_SENT)
    assert explain(admin, event.contact_id).state == "assigned"


def test_unknown_contacts_and_queues(admin: agent_desk_pb2_grpc.RoutingAdminStub) -> None:
    assert explain(admin, "no-such-contact").state == "unknown"
    with pytest.raises(grpc.RpcError) as missing:
        admin.GetQueueStats(agent_desk_pb2.GetQueueStatsRequest(queue="no-such-queue"), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_policy_is_reloaded_when_its_file_changes_and_a_bad_file_is_ignored(
    router: RouterUnderTest, admin: agent_desk_pb2_grpc.RoutingAdminStub
) -> None:
    def queues() -> list[str]:
        return [q.queue for q in admin.GetQueueStats(agent_desk_pb2.GetQueueStatsRequest(), timeout=5).queues]

    assert queues() == ["general"]
    router.write_policy(POLICY_WITH_VIP)
    wait_for(lambda: queues() == ["vip", "general"])

    router.write_policy("default_queue: nowhere\nqueues: []\n")
    wait_for(lambda: "routing_policy_rejected" in router.log_text())
    assert queues() == ["vip", "general"], "an invalid policy never replaces the good one"


def test_with_an_admin_token_set_routing_admin_refuses_callers_without_it(
    broker: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    guarded = RouterUnderTest(broker, tmp_path_factory.mktemp("guarded-router"))
    guarded.extra_env["ROUTER_ADMIN_TOKEN"] = "admin-secret-for-tests"
    guarded.start()
    try:
        with grpc.insecure_channel(guarded.target) as channel:
            stub = agent_desk_pb2_grpc.RoutingAdminStub(channel)
            for metadata in ((), (("authorization", "Bearer wrong"),)):
                with pytest.raises(grpc.RpcError) as refused:
                    stub.GetQueueStats(agent_desk_pb2.GetQueueStatsRequest(), metadata=metadata, timeout=5)
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            allowed = (("authorization", "Bearer admin-secret-for-tests"),)
            assert stub.GetQueueStats(agent_desk_pb2.GetQueueStatsRequest(), metadata=allowed, timeout=5).queues
    finally:
        guarded.stop()
