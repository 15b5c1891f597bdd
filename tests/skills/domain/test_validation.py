from __future__ import annotations

from dataclasses import replace

import pytest

from services.skills.domain.errors import InvalidField
from services.skills.domain.model import Agent, AgentFilter, LanguageLevel, Queue, Skill
from services.skills.domain.validation import (
    normalize_language,
    validate_agent,
    validate_filter,
    validate_page_size,
    validate_queue,
    validate_skill,
)

from ..invalid_agents import INVALID_AGENTS, KNOWN_QUEUES, KNOWN_SKILLS, valid_agent


def test_a_valid_agent_passes_with_its_language_tags_normalized() -> None:
    agent = replace(valid_agent(), languages=(LanguageLevel("HR", 5), LanguageLevel("en-gb", 4)))
    validated = validate_agent(agent, KNOWN_SKILLS, KNOWN_QUEUES)
    assert [lang.language for lang in validated.languages] == ["hr", "en-GB"]
    assert replace(validated, languages=agent.languages) == agent


def test_an_agent_may_have_no_skills_languages_capacity_or_queues() -> None:
    bare = Agent(agent_id="new-hire", display_name="New Hire")
    assert validate_agent(bare, KNOWN_SKILLS, KNOWN_QUEUES) == bare


@pytest.mark.parametrize(
    ("agent", "field"), [(a, f) for _, a, f in INVALID_AGENTS], ids=[c for c, _, _ in INVALID_AGENTS]
)
def test_each_broken_rule_names_its_field(agent: Agent, field: str) -> None:
    with pytest.raises(InvalidField) as error:
        validate_agent(agent, KNOWN_SKILLS, KNOWN_QUEUES)
    assert error.value.field == field
    assert str(error.value).startswith(f"{field}: ")


def test_the_error_for_an_out_of_range_proficiency_says_the_range() -> None:
    agent = replace(valid_agent(), skills=(replace(valid_agent().skills[0], proficiency=9),))
    with pytest.raises(InvalidField, match=r"9 is out of range 1\.\.5"):
        validate_agent(agent, KNOWN_SKILLS, KNOWN_QUEUES)


@pytest.mark.parametrize(
    ("tag", "normalized"),
    [("hr", "hr"), ("EN", "en"), ("en-gb", "en-GB"), ("sr-latn-rs", "sr-Latn-RS"), ("es-419", "es-419")],
)
def test_language_tags_get_their_canonical_casing(tag: str, normalized: str) -> None:
    assert normalize_language(tag) == normalized


@pytest.mark.parametrize(
    ("entry", "validate", "field"),
    [
        (Skill(name="Billing"), validate_skill, "skill.name"),
        (Skill(name="1st-line"), validate_skill, "skill.name"),
        (Skill(name=""), validate_skill, "skill.name"),
        (Skill(name="billing", description="x" * 501), validate_skill, "skill.description"),
        (Skill(name="billing", version=-1), validate_skill, "skill.version"),
        (Queue(name="vip queue"), validate_queue, "queue.name"),
        (Queue(name="vip", description="x" * 501), validate_queue, "queue.description"),
        (Queue(name="vip", version=-2), validate_queue, "queue.version"),
    ],
)
def test_catalog_names_and_descriptions_are_checked(entry: object, validate: object, field: str) -> None:
    with pytest.raises(InvalidField) as error:
        validate(entry)  # type: ignore[operator]
    assert error.value.field == field


def test_valid_catalog_entries_pass() -> None:
    assert validate_skill(Skill("first_line-2", "Tier 1")) == Skill("first_line-2", "Tier 1")
    assert validate_queue(Queue("vip")) == Queue("vip")


@pytest.mark.parametrize(
    ("agent_filter", "field"),
    [
        (AgentFilter(skill="Billing"), "skill"),
        (AgentFilter(min_proficiency=3), "min_proficiency"),
        (AgentFilter(skill="billing", min_proficiency=6), "min_proficiency"),
        (AgentFilter(skill="billing", min_proficiency=-1), "min_proficiency"),
        (AgentFilter(language="croatian"), "language"),
        (AgentFilter(queue="VIP"), "queue"),
    ],
)
def test_bad_filters_name_their_field(agent_filter: AgentFilter, field: str) -> None:
    with pytest.raises(InvalidField) as error:
        validate_filter(agent_filter)
    assert error.value.field == field


def test_a_filter_language_is_normalized_like_the_stored_ones() -> None:
    assert validate_filter(AgentFilter(skill="billing", min_proficiency=3, language="HR")).language == "hr"


@pytest.mark.parametrize(("size", "expected"), [(0, 100), (1, 1), (1000, 1000)])
def test_page_sizes_default_to_100_and_stop_at_1000(size: int, expected: int) -> None:
    assert validate_page_size(size) == expected


@pytest.mark.parametrize("size", [-1, 1001])
def test_page_sizes_out_of_range_are_refused(size: int) -> None:
    with pytest.raises(InvalidField, match="page_size"):
        validate_page_size(size)
