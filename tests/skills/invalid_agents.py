"""Broken agents, one rule each, with the field the error must name: shared by the domain and the gRPC tests."""

from __future__ import annotations

from dataclasses import replace

from services.skills.domain.model import Agent, Channel, ChannelCapacity, LanguageLevel, SkillLevel, WorkingHours

KNOWN_SKILLS = frozenset({"general", "billing", "vip"})
KNOWN_QUEUES = frozenset({"general", "billing"})


def valid_agent(agent_id: str = "ana.horvat") -> Agent:
    return Agent(
        agent_id=agent_id,
        display_name="Ana Horvat",
        skills=(SkillLevel("general", 5), SkillLevel("billing", 3)),
        languages=(LanguageLevel("hr", 5), LanguageLevel("en", 4)),
        capacity=(ChannelCapacity(Channel.EMAIL, 5), ChannelCapacity(Channel.WHATSAPP, 3)),
        queues=("general", "billing"),
        active=True,
        time_zone="Europe/Zagreb",
        working_hours=(WorkingHours(1, "08:00", "16:00"),),
    )


def _with(**changes: object) -> Agent:
    return replace(valid_agent(), **changes)  # type: ignore[arg-type]


# (case id, broken agent, field named in the error)
INVALID_AGENTS: list[tuple[str, Agent, str]] = [
    ("empty id", _with(agent_id=""), "agent.agent_id"),
    ("id with a space", _with(agent_id="ana horvat"), "agent.agent_id"),
    ("id too long", _with(agent_id="a" * 129), "agent.agent_id"),
    ("blank display name", _with(display_name="   "), "agent.display_name"),
    ("display name too long", _with(display_name="x" * 201), "agent.display_name"),
    ("unknown skill", _with(skills=(SkillLevel("general", 3), SkillLevel("astrology", 3))), "agent.skills[1].skill"),
    ("proficiency 0", _with(skills=(SkillLevel("general", 0),)), "agent.skills[0].proficiency"),
    ("proficiency 6", _with(skills=(SkillLevel("general", 6),)), "agent.skills[0].proficiency"),
    ("skill twice", _with(skills=(SkillLevel("general", 3), SkillLevel("general", 4))), "agent.skills[1].skill"),
    ("bad language code", _with(languages=(LanguageLevel("croatian!", 5),)), "agent.languages[0].language"),
    ("one-letter language", _with(languages=(LanguageLevel("h", 5),)), "agent.languages[0].language"),
    ("language level 0", _with(languages=(LanguageLevel("hr", 0),)), "agent.languages[0].level"),
    ("language level 6", _with(languages=(LanguageLevel("hr", 6),)), "agent.languages[0].level"),
    (
        "language twice",
        _with(languages=(LanguageLevel("hr", 5), LanguageLevel("HR", 3))),
        "agent.languages[1].language",
    ),
    ("negative capacity", _with(capacity=(ChannelCapacity(Channel.EMAIL, -1),)), "agent.capacity[0].max_concurrent"),
    ("capacity over 100", _with(capacity=(ChannelCapacity(Channel.EMAIL, 101),)), "agent.capacity[0].max_concurrent"),
    (
        "channel twice",
        _with(capacity=(ChannelCapacity(Channel.X, 1), ChannelCapacity(Channel.X, 2))),
        "agent.capacity[1].channel",
    ),
    ("unknown queue", _with(queues=("general", "sales")), "agent.queues[1]"),
    ("queue twice", _with(queues=("general", "general")), "agent.queues[1]"),
    ("unknown time zone", _with(time_zone="Mars/Olympus"), "agent.time_zone"),
    ("working hours without a time zone", _with(time_zone=""), "agent.time_zone"),
    ("weekday 0", _with(working_hours=(WorkingHours(0, "08:00", "16:00"),)), "agent.working_hours[0].weekday"),
    ("weekday 8", _with(working_hours=(WorkingHours(8, "08:00", "16:00"),)), "agent.working_hours[0].weekday"),
    ("start not HH:MM", _with(working_hours=(WorkingHours(1, "8am", "16:00"),)), "agent.working_hours[0].start"),
    ("end 24:00", _with(working_hours=(WorkingHours(1, "08:00", "24:00"),)), "agent.working_hours[0].end"),
    ("end before start", _with(working_hours=(WorkingHours(1, "16:00", "08:00"),)), "agent.working_hours[0].end"),
]
