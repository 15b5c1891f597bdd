"""The outbox end to end: changes made through real gRPC reach `agents.profiles` on a real broker, in order."""

from __future__ import annotations

import uuid

import pytest

from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2

from ..service import RunningSkills, admin, read_profiles, versions_by_agent

pytestmark = pytest.mark.integration


def _catalog(skills: RunningSkills) -> None:
    stub = skills.stub()
    for name in ("general", "billing"):
        existing = {s.name for s in stub.ListSkills(skills_pb2.ListSkillsRequest(), metadata=admin()).skills}
        if name not in existing:
            stub.CreateSkill(skills_pb2.CreateSkillRequest(skill=skills_pb2.Skill(name=name)), metadata=admin())
    existing = {q.name for q in stub.ListQueues(skills_pb2.ListQueuesRequest(), metadata=admin()).queues}
    if "general" not in existing:
        stub.CreateQueue(skills_pb2.CreateQueueRequest(queue=skills_pb2.Queue(name="general")), metadata=admin())


def _profile(agent_id: str, proficiency: int = 3) -> agent_pb2.AgentProfile:
    return agent_pb2.AgentProfile(
        agent_id=agent_id,
        display_name="Test Agent",
        skills=[agent_pb2.SkillLevel(skill="general", proficiency=proficiency)],
        languages=[agent_pb2.LanguageLevel(language="hr", level=5)],
        capacity=[agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_EMAIL, max_concurrent=5)],
        queues=["general"],
        active=True,
    )


def test_a_created_agent_is_published_keyed_by_its_id(skills: RunningSkills, profiles_topic: str) -> None:
    _catalog(skills)
    agent_id = f"agent-{uuid.uuid4().hex[:8]}"
    created = skills.stub().CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(agent_id)), metadata=admin())
    assert created.version == 1

    records = read_profiles(profiles_topic, {agent_id}, lambda rs: len(rs) >= 1)
    assert len(records) == 1
    assert records[0].message == created


def test_updates_and_the_delete_tombstone_arrive_in_order(skills: RunningSkills, profiles_topic: str) -> None:
    _catalog(skills)
    stub = skills.stub()
    agent_id = f"agent-{uuid.uuid4().hex[:8]}"
    current = stub.CreateAgent(skills_pb2.CreateAgentRequest(agent=_profile(agent_id)), metadata=admin())
    for proficiency in (4, 5, 2):
        wanted = _profile(agent_id, proficiency)
        wanted.version = current.version
        current = stub.UpdateAgent(skills_pb2.UpdateAgentRequest(agent=wanted), metadata=admin())
    stub.DeleteAgent(skills_pb2.DeleteAgentRequest(agent_id=agent_id, expected_version=4), metadata=admin())

    records = read_profiles(profiles_topic, {agent_id}, lambda rs: len(rs) >= 5)
    assert versions_by_agent(records) == {agent_id: [1, 2, 3, 4, 0]}
    assert records[-1].message is None and records[-1].raw is None
    profiles = [r.message for r in records[:4] if isinstance(r.message, agent_pb2.AgentProfile)]
    assert [p.skills[0].proficiency for p in profiles] == [3, 4, 5, 2]
