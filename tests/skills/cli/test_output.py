from __future__ import annotations

import json

import yaml

from contactrouting.v1 import agent_pb2, contact_pb2, skills_pb2
from services.skills.cli.output import render_agents, render_catalog

AGENT = agent_pb2.AgentProfile(
    agent_id="ana",
    display_name="Ana Horvat",
    skills=[agent_pb2.SkillLevel(skill="billing", proficiency=4)],
    languages=[agent_pb2.LanguageLevel(language="hr", level=5)],
    capacity=[agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_X, max_concurrent=3)],
    queues=["billing"],
    active=True,
    version=7,
)


def test_the_table_aligns_columns_under_their_headers() -> None:
    lines = render_agents([AGENT], "table").splitlines()
    assert lines[0].split() == ["ID", "NAME", "ACTIVE", "SKILLS", "LANGUAGES", "CAPACITY", "QUEUES", "VERSION"]
    assert lines[1].split() == ["ana", "Ana", "Horvat", "yes", "billing:4", "hr:5", "x:3", "billing", "7"]
    assert lines[1].index("yes") == lines[0].index("ACTIVE")


def test_json_and_yaml_are_documents_apply_accepts() -> None:
    as_json = json.loads(render_agents([AGENT], "json"))
    as_yaml = yaml.safe_load(render_agents([AGENT], "yaml"))
    assert as_json == as_yaml
    assert as_json["agents"][0] == {
        "id": "ana",
        "display_name": "Ana Horvat",
        "skills": {"billing": 4},
        "languages": {"hr": 5},
        "capacity": {"x": 3},
        "queues": ["billing"],
        "active": True,
        "version": 7,
    }


def test_catalogs_render_in_every_format() -> None:
    skill = skills_pb2.Skill(name="vip", description="Premium, priority", version=2)
    assert render_catalog("skills", [skill], "table").splitlines()[1].split() == ["vip", "Premium,", "priority", "2"]
    assert render_catalog("skills", [skill], "csv") == 'name,description\r\nvip,"Premium, priority"\r\n'
    assert json.loads(render_catalog("skills", [skill], "json")) == {
        "skills": [{"name": "vip", "description": "Premium, priority", "version": 2}]
    }


def test_an_empty_list_is_just_the_header() -> None:
    assert render_agents([], "table").splitlines() == [
        "ID   NAME   ACTIVE   SKILLS   LANGUAGES   CAPACITY   QUEUES   VERSION"
    ]
