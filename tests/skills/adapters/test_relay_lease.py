"""Two service instances on one PostgreSQL database: one relay publishes, the other takes over when it dies."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from contactrouting.v1 import skills_pb2
from services.skills.adapters.proto_mapping import agent_to_proto

from ..invalid_agents import valid_agent
from ..postgres import TempPostgres
from ..service import RunningSkills, admin, read_profiles, skills_process, versions_by_agent

pytestmark = pytest.mark.integration


def _leader(instances: list[RunningSkills], timeout_s: float = 15.0) -> RunningSkills:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        leaders = [i for i in instances if "outbox_relay_lease_acquired" in i.log()]
        if leaders:
            assert len(leaders) == 1, "two relays hold the lease at once"
            return leaders[0]
        time.sleep(0.1)
    raise AssertionError("no relay took the lease")


def test_one_relay_publishes_and_the_other_takes_over(
    postgres_server: TempPostgres, profiles_topic: str, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    instances = [skills_process(tmp_path / name, profiles_topic, DATABASE_URL=url) for name in ("one", "two")]
    for instance in instances:
        instance.start()
    try:
        stub = instances[0].stub()
        for name in ("general", "billing", "vip"):
            stub.CreateSkill(skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=name)), metadata=admin())
        for name in ("general", "billing"):
            stub.CreateQueue(skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name=name)), metadata=admin())
        leader = _leader(instances)
        follower = next(i for i in instances if i is not leader)

        # Alternate the instances that take the changes: the one relay still publishes them in order.
        agent_id = f"lease-{uuid.uuid4().hex[:8]}"
        current = follower.stub().CreateAgent(
            skills_pb2.CreateAgentRequest(agent=agent_to_proto(valid_agent(agent_id))), metadata=admin()
        )
        for instance in (leader, follower, leader):
            wanted = agent_to_proto(valid_agent(agent_id))
            wanted.version = current.version
            current = instance.stub().UpdateAgent(skills_pb2.UpdateAgentRequest(agent=wanted), metadata=admin())
        records = read_profiles(profiles_topic, {agent_id}, lambda rs: len(rs) >= 4)
        assert versions_by_agent(records) == {agent_id: [1, 2, 3, 4]}
        assert "outbox_published" not in follower.log()

        leader.kill()
        wanted = agent_to_proto(valid_agent(agent_id))
        wanted.version = current.version
        follower.stub().UpdateAgent(skills_pb2.UpdateAgentRequest(agent=wanted), metadata=admin())
        records = read_profiles(profiles_topic, {agent_id}, lambda rs: len(rs) >= 5)
        assert versions_by_agent(records)[agent_id][-1] == 5
        assert "outbox_relay_lease_acquired" in follower.log()
    finally:
        for instance in instances:
            instance.stop()
