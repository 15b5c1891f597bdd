"""The journey view over what a real router wrote: an offer that times out, a re-offer that is accepted, a reply
and a completion, read back from `routing.events` by `python -m services.journey` (the same run's traces too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from contactrouting.v1 import agent_desk_pb2, routing_pb2

from .harness import Desk, Kafka, RouterUnderTest, contact_event, events_of, logged_in, unique

pytestmark = pytest.mark.integration
RET = routing_pb2.RoutingEventType


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"), offer_timeout_s=1.0)
    under_test.start()
    yield under_test
    under_test.stop()


def test_the_journey_of_a_contact_offered_timed_out_reoffered_accepted_and_completed(
    router: RouterUnderTest, desks: Callable[[str, str], Desk], kafka: Kafka
) -> None:
    skill = unique("skill")
    silent = logged_in(router, desks, kafka, skill)
    contact = contact_event(skill)
    kafka.publish_contact(contact)
    silent.next("offer")  # never answered
    answering = logged_in(router, desks, kafka, skill)
    offer = answering.next("offer")
    answering.accept(offer)
    assigned = answering.next("assignment")
    answering.send(
        agent_desk_pb2.AgentMessage(
            reply=agent_desk_pb2.SendReply(contact_id=contact.contact_id, body_text="Riješeno, hvala."),
            traceparent=assigned.traceparent,
        )
    )
    done = agent_desk_pb2.CompleteContact(contact_id=contact.contact_id, disposition="resolved", wrap_up_summary="ok")
    answering.send(agent_desk_pb2.AgentMessage(complete=done, traceparent=assigned.traceparent))
    events_of(kafka, contact.contact_id, lambda types: RET.ROUTING_EVENT_TYPE_COMPLETED in types)

    result = subprocess.run(
        [sys.executable, "-m", "services.journey", contact.contact_id, "-o", "json"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": router.bootstrap, "TRACE_DIR": str(router.var_dir / "traces")},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    [journey] = json.loads(result.stdout)["contacts"]
    assert journey["state"] == "completed"
    assert [step["kind"] for step in journey["steps"]] == [
        "received",
        "queued",
        "offered",
        "offer_timed_out",
        "offered",
        "accepted",
        "assigned",
        "completed",
    ]
    assert [(o["agent_id"], o["outcome"]) for o in journey["offers"]] == [
        (silent.agent_id, "timed_out"),
        (answering.agent_id, "accepted"),
    ]
    assert journey["sla"]["status"] == "met"
    # The router's decisions come with their reasons.
    offered = [step for step in journey["steps"] if step["kind"] == "offered"]
    assert [step["decision"]["chosen_agent_id"] for step in offered] == [silent.agent_id, answering.agent_id]
    assert all(step["decision"]["summary"].startswith("best proficiency fit") for step in offered), offered
    # By the re-offer the silent agent was set away for the missed offer: filtered out as not available.
    assert offered[1]["decision"]["filtered_out"] == {"offline": 1}
