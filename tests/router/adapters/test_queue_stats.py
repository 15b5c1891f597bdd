"""RoutingAdmin.GetQueueStats over gRPC, field by field, after a scripted run through a real router: an offer that
times out, a re-offer that is accepted, and a contact nobody can take."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import grpc
import pytest

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc

from .harness import Desk, Kafka, RouterUnderTest, contact_event, logged_in, unique

pytestmark = pytest.mark.integration
OFFER_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"), offer_timeout_s=OFFER_TIMEOUT_S)
    under_test.start()
    yield under_test
    under_test.stop()


def general_stats(router: RouterUnderTest) -> agent_desk_pb2.QueueStats:
    with grpc.insecure_channel(router.target) as channel:
        admin = agent_desk_pb2_grpc.RoutingAdminStub(channel)
        [general] = admin.GetQueueStats(agent_desk_pb2.GetQueueStatsRequest(queue="general"), timeout=5).queues
    return general


def wait_for(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_queue_stats_after_a_timeout_an_accept_and_a_contact_nobody_can_take(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    before = general_stats(router)
    assert (before.waiting, before.offers_timed_out, before.sla_attainment_percent) == (0, 0, 100.0)
    assert before.average_time_to_accept_ms == 0 and before.estimated_wait_ms == 0

    skill = unique("skill")
    silent = logged_in(router, desks, kafka, skill)
    contact = contact_event(skill)
    kafka.publish_contact(contact)
    silent.next("offer")  # ...and never answered: it times out, and the silent agent goes AWAY
    wait_for(lambda: general_stats(router).offers_timed_out == 1)
    assert general_stats(router).waiting == 1

    answering = logged_in(router, desks, kafka, skill)
    answering.accept(answering.next("offer"))
    assert answering.next("assignment").assignment.contact_id == contact.contact_id
    wait_for(lambda: general_stats(router).waiting == 0)

    served = general_stats(router)
    assert served.offers_timed_out == 1
    # Queued until accepted: at least the missed offer's timeout, well inside the queue's 1 h SLA.
    assert OFFER_TIMEOUT_S * 1000 <= served.average_time_to_accept_ms < 30_000
    assert served.sla_attainment_percent == 100.0
    # The silent agent is AWAY (missed_offer); the one who answered still has room on email.
    assert {a.key: a.count for a in served.available_agents} == {"language:en": 1, "language:hr": 1}

    kafka.publish_contact(contact_event(unique("skill-nobody-has")))
    wait_for(lambda: general_stats(router).waiting == 1)
    time.sleep(0.3)
    stuck = general_stats(router)
    assert stuck.longest_waiting_ms >= 300
    # A new contact would be second in line: an ETA from the recent accept rate, never zero once one was accepted.
    assert stuck.estimated_wait_ms > 0
