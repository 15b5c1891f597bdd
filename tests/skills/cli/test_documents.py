from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from contactrouting.v1 import agent_pb2, contact_pb2
from services.skills.cli.documents import (
    DocumentError,
    agent_to_dict,
    agents_to_csv,
    parse_csv,
    parse_yaml,
)

FULL = """
skills: [{name: billing, description: Invoices}]
queues: [{name: billing}]
agents:
  - id: ana.horvat
    display_name: Ana Horvat
    skills: {billing: 4, general: 3}
    languages: {hr: 5, en: 4}
    capacity: {email: 5, whatsapp: 3}
    queues: [billing, general]
    active: false
    time_zone: Europe/Zagreb
    working_hours: [{weekday: 1, start: "08:00", end: "16:00"}]
"""


def test_a_full_document_becomes_the_profile_the_service_takes() -> None:
    document = parse_yaml(FULL)
    assert [s.name for s in document.skills] == ["billing"]
    assert [q.name for q in document.queues] == ["billing"]
    profile = document.agents[0].to_proto()
    assert profile == agent_pb2.AgentProfile(
        agent_id="ana.horvat",
        display_name="Ana Horvat",
        skills=[
            agent_pb2.SkillLevel(skill="billing", proficiency=4),
            agent_pb2.SkillLevel(skill="general", proficiency=3),
        ],
        languages=[agent_pb2.LanguageLevel(language="hr", level=5), agent_pb2.LanguageLevel(language="en", level=4)],
        capacity=[
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_EMAIL, max_concurrent=5),
            agent_pb2.ChannelCapacity(channel=contact_pb2.CHANNEL_WHATSAPP, max_concurrent=3),
        ],
        queues=["billing", "general"],
        active=False,
        time_zone="Europe/Zagreb",
        working_hours=[agent_pb2.WorkingHours(weekday=1, start="08:00", end="16:00")],
    )


def test_agents_default_to_active_and_accept_agent_id_as_the_key() -> None:
    document = parse_yaml("- {agent_id: bob, display_name: Bob}")
    assert document.agents[0].id == "bob"
    assert document.agents[0].to_proto().active is True


def test_a_bare_list_is_read_as_the_commands_kind() -> None:
    assert [s.name for s in parse_yaml("- name: vip", "skills").skills] == ["vip"]
    assert parse_yaml("") == parse_yaml("agents: []")


def test_exported_dicts_and_csv_read_back_to_the_same_profile() -> None:
    profile = parse_yaml(FULL).agents[0].to_proto()
    again = parse_yaml(yaml.safe_dump({"agents": [agent_to_dict(profile)]}, sort_keys=False))
    assert again.agents[0].to_proto() == profile
    from_csv = parse_csv(agents_to_csv([profile]), "agents")
    assert from_csv.agents[0].to_proto() == profile


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agents: {id: a}", "agents: Input should be a valid list"),
        ("agents: [{display_name: A}]", "agents.0.agent_id: Field required"),
        ("agents: [{id: a, display_name: A, skills: {general: high}}]", "agents.0.skills.general"),
        ("agents: [{id: a, display_name: A, capacity: {pager: 1}}]", "unknown channel 'pager'"),
        ("skills: [{name: a}, {name: a}]", "skills: 'a' appears twice"),
        ("teams: []", "teams: Extra inputs are not permitted"),
    ],
)
def test_structural_mistakes_are_reported_with_their_path(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse_yaml(text)


def test_csv_catalogs_and_missing_columns() -> None:
    assert [(s.name, s.description) for s in parse_csv("name,description\nvip,Premium\n", "skills").skills] == [
        ("vip", "Premium")
    ]
    with pytest.raises(DocumentError, match="lacks column"):
        parse_csv("name\nana\n", "agents")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,A,general:x", "skills: 'general:x' is not name:number"),
        ("a,A,,,,,maybe", "active: 'maybe' is not true or false"),
        ("a,A,,,,,,Europe/Zagreb,Mon 08:00-16:00", "working_hours: 'Mon 08:00-16:00'"),
    ],
)
def test_csv_cell_mistakes_name_line_and_column(row: str, message: str) -> None:
    header = "id,display_name,skills,languages,capacity,queues,active,time_zone,working_hours\n"
    with pytest.raises(DocumentError, match=f"CSV line 2: {message}"):
        parse_csv(header + row + "\n", "agents")


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
AGENT_SPECS = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,20}", fullmatch=True),
        "display_name": st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and "\x00" not in s and s),
        "skills": st.dictionaries(NAMES, st.integers(1, 5), max_size=4),
        "languages": st.dictionaries(st.sampled_from(["en", "hr", "sk", "de", "en-GB", "sr-Latn"]), st.integers(1, 5)),
        "capacity": st.dictionaries(
            st.sampled_from(["email", "messenger", "instagram", "whatsapp", "telegram", "x"]), st.integers(0, 100)
        ),
        "queues": st.lists(NAMES, max_size=3, unique=True),
        "active": st.booleans(),
        "time_zone": st.sampled_from(["", "Europe/Zagreb", "America/New_York"]),
        "working_hours": st.lists(
            st.fixed_dictionaries(
                {"weekday": st.integers(1, 7), "start": st.sampled_from(["08:00", "09:30"]), "end": st.just("17:00")}
            ),
            max_size=3,
        ),
    }
)


@given(st.lists(AGENT_SPECS, max_size=5, unique_by=lambda a: a["id"]))
@settings(max_examples=60, deadline=None)
def test_any_sheet_of_agents_survives_a_csv_and_a_yaml_round_trip(agents: list[dict[str, object]]) -> None:
    profiles = [spec.to_proto() for spec in parse_yaml(yaml.safe_dump({"agents": agents})).agents]
    assert [s.to_proto() for s in parse_csv(agents_to_csv(profiles), "agents").agents] == profiles
    exported = yaml.safe_dump({"agents": [agent_to_dict(p) for p in profiles]}, sort_keys=False)
    assert [s.to_proto() for s in parse_yaml(exported).agents] == profiles
