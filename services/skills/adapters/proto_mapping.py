"""Translation between the domain records and the protobuf contracts; nothing else."""

from __future__ import annotations

from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2
from services.skills.domain.errors import InvalidField
from services.skills.domain.model import (
    Agent,
    Channel,
    ChannelCapacity,
    LanguageLevel,
    Queue,
    Skill,
    SkillLevel,
    WorkingHours,
)

CHANNEL_TO_PROTO: dict[Channel, contact_pb2.Channel] = {
    Channel.EMAIL: contact_pb2.CHANNEL_EMAIL,
    Channel.MESSENGER: contact_pb2.CHANNEL_MESSENGER,
    Channel.INSTAGRAM: contact_pb2.CHANNEL_INSTAGRAM,
    Channel.WHATSAPP: contact_pb2.CHANNEL_WHATSAPP,
    Channel.TELEGRAM: contact_pb2.CHANNEL_TELEGRAM,
    Channel.X: contact_pb2.CHANNEL_X,
}
PROTO_TO_CHANNEL = {number: channel for channel, number in CHANNEL_TO_PROTO.items()}


def agent_to_proto(agent: Agent) -> agent_pb2.AgentProfile:
    return agent_pb2.AgentProfile(
        agent_id=agent.agent_id,
        display_name=agent.display_name,
        skills=[agent_pb2.SkillLevel(skill=s.skill, proficiency=s.proficiency) for s in agent.skills],
        languages=[agent_pb2.LanguageLevel(language=lang.language, level=lang.level) for lang in agent.languages],
        capacity=[
            agent_pb2.ChannelCapacity(channel=CHANNEL_TO_PROTO[c.channel], max_concurrent=c.max_concurrent)
            for c in agent.capacity
        ],
        queues=list(agent.queues),
        active=agent.active,
        version=agent.version,
        time_zone=agent.time_zone,
        working_hours=[
            agent_pb2.WorkingHours(weekday=h.weekday, start=h.start, end=h.end) for h in agent.working_hours
        ],
    )


def agent_from_proto(profile: agent_pb2.AgentProfile) -> Agent:
    capacity = []
    for i, entry in enumerate(profile.capacity):
        channel = PROTO_TO_CHANNEL.get(entry.channel)
        if channel is None:
            raise InvalidField(f"agent.capacity[{i}].channel", f"channel {entry.channel} is not a known channel")
        capacity.append(ChannelCapacity(channel, entry.max_concurrent))
    return Agent(
        agent_id=profile.agent_id,
        display_name=profile.display_name,
        skills=tuple(SkillLevel(s.skill, s.proficiency) for s in profile.skills),
        languages=tuple(LanguageLevel(lang.language, lang.level) for lang in profile.languages),
        capacity=tuple(capacity),
        queues=tuple(profile.queues),
        active=profile.active,
        time_zone=profile.time_zone,
        working_hours=tuple(WorkingHours(h.weekday, h.start, h.end) for h in profile.working_hours),
        version=profile.version,
    )


def skill_to_proto(skill: Skill) -> skills_pb2.Skill:
    return skills_pb2.Skill(name=skill.name, description=skill.description, version=skill.version)


def skill_from_proto(message: skills_pb2.Skill) -> Skill:
    return Skill(name=message.name, description=message.description, version=message.version)


def queue_to_proto(queue: Queue) -> skills_pb2.Queue:
    return skills_pb2.Queue(name=queue.name, description=queue.description, version=queue.version)


def queue_from_proto(message: skills_pb2.Queue) -> Queue:
    return Queue(name=message.name, description=message.description, version=message.version)
