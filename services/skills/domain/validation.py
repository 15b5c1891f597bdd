"""The rules a record must satisfy before it is stored; each failure names the offending field."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Collection
from dataclasses import replace

from services.skills.domain.errors import InvalidField
from services.skills.domain.model import Agent, AgentFilter, LanguageLevel, Queue, Skill

MIN_LEVEL, MAX_LEVEL = 1, 5
MAX_CAPACITY = 100
MAX_DISPLAY_NAME = 200
MAX_DESCRIPTION = 500
MAX_PAGE_SIZE = 1000

AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
CATALOG_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
# BCP-47 in the shape we route on: a 2-3 letter primary language, then optional subtags (script, region, ...).
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def normalize_language(tag: str) -> str:
    """`HR` -> `hr`, `en-gb` -> `en-GB`: the canonical casing of BCP-47, so filters match whatever was typed."""
    primary, *subtags = tag.split("-")
    cased = [primary.lower()]
    for subtag in subtags:
        if len(subtag) == 2 and subtag.isalpha():
            cased.append(subtag.upper())
        elif len(subtag) == 4 and subtag.isalpha():
            cased.append(subtag.title())
        else:
            cased.append(subtag.lower())
    return "-".join(cased)


def check_language_tag(field: str, tag: str) -> str:
    if not LANGUAGE_TAG.match(tag):
        raise InvalidField(field, f"{tag!r} is not a BCP-47 language tag such as 'en' or 'hr'")
    return normalize_language(tag)


def check_catalog_name(field: str, name: str) -> None:
    if not CATALOG_NAME.match(name):
        raise InvalidField(field, f"{name!r} must be lowercase letters, digits, '_' or '-', starting with a letter")


def _check_level(field: str, value: int) -> None:
    if not MIN_LEVEL <= value <= MAX_LEVEL:
        raise InvalidField(field, f"{value} is out of range {MIN_LEVEL}..{MAX_LEVEL}")


def _check_description(field: str, description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidField(field, f"longer than {MAX_DESCRIPTION} characters")


def validate_agent(agent: Agent, known_skills: Collection[str], known_queues: Collection[str]) -> Agent:
    """The agent with normalized language tags, or InvalidField for the first broken rule."""
    if not AGENT_ID.match(agent.agent_id):
        raise InvalidField(
            "agent.agent_id", "must be 1-128 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    if not agent.display_name.strip():
        raise InvalidField("agent.display_name", "must not be empty")
    if len(agent.display_name) > MAX_DISPLAY_NAME:
        raise InvalidField("agent.display_name", f"longer than {MAX_DISPLAY_NAME} characters")

    seen: set[str] = set()
    for i, skill in enumerate(agent.skills):
        field = f"agent.skills[{i}]"
        if skill.skill not in known_skills:
            raise InvalidField(
                f"{field}.skill", f"unknown skill {skill.skill!r}; create it in the skills catalog first"
            )
        if skill.skill in seen:
            raise InvalidField(f"{field}.skill", f"skill {skill.skill!r} is listed twice")
        seen.add(skill.skill)
        _check_level(f"{field}.proficiency", skill.proficiency)

    languages: list[LanguageLevel] = []
    for i, language in enumerate(agent.languages):
        field = f"agent.languages[{i}]"
        tag = check_language_tag(f"{field}.language", language.language)
        if tag in {known.language for known in languages}:
            raise InvalidField(f"{field}.language", f"language {tag!r} is listed twice")
        _check_level(f"{field}.level", language.level)
        languages.append(LanguageLevel(tag, language.level))

    channels: set[str] = set()
    for i, capacity in enumerate(agent.capacity):
        field = f"agent.capacity[{i}]"
        if capacity.channel.value in channels:
            raise InvalidField(f"{field}.channel", f"channel {capacity.channel.value!r} is listed twice")
        channels.add(capacity.channel.value)
        if not 0 <= capacity.max_concurrent <= MAX_CAPACITY:
            raise InvalidField(
                f"{field}.max_concurrent", f"{capacity.max_concurrent} is out of range 0..{MAX_CAPACITY}"
            )

    queues: set[str] = set()
    for i, queue in enumerate(agent.queues):
        if queue not in known_queues:
            raise InvalidField(f"agent.queues[{i}]", f"unknown queue {queue!r}; create the queue first")
        if queue in queues:
            raise InvalidField(f"agent.queues[{i}]", f"queue {queue!r} is listed twice")
        queues.add(queue)

    if agent.time_zone:
        try:
            zoneinfo.ZoneInfo(agent.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InvalidField("agent.time_zone", f"{agent.time_zone!r} is not an IANA time zone") from None
    if agent.working_hours and not agent.time_zone:
        raise InvalidField("agent.time_zone", "is required when working_hours are given")
    for i, hours in enumerate(agent.working_hours):
        field = f"agent.working_hours[{i}]"
        if not 1 <= hours.weekday <= 7:
            raise InvalidField(f"{field}.weekday", f"{hours.weekday} is not an ISO weekday 1..7")
        for name, value in (("start", hours.start), ("end", hours.end)):
            if not CLOCK_TIME.match(value):
                raise InvalidField(f"{field}.{name}", f"{value!r} is not a time HH:MM")
        if hours.start >= hours.end:
            raise InvalidField(f"{field}.end", f"{hours.end} is not after start {hours.start}")

    if agent.version < 0:
        raise InvalidField("agent.version", "must not be negative")
    return replace(agent, languages=tuple(languages))


def validate_skill(skill: Skill) -> Skill:
    check_catalog_name("skill.name", skill.name)
    _check_description("skill.description", skill.description)
    if skill.version < 0:
        raise InvalidField("skill.version", "must not be negative")
    return skill


def validate_queue(queue: Queue) -> Queue:
    check_catalog_name("queue.name", queue.name)
    _check_description("queue.description", queue.description)
    if queue.version < 0:
        raise InvalidField("queue.version", "must not be negative")
    return queue


def validate_filter(agent_filter: AgentFilter) -> AgentFilter:
    if agent_filter.skill:
        check_catalog_name("skill", agent_filter.skill)
    if agent_filter.min_proficiency and not agent_filter.skill:
        raise InvalidField("min_proficiency", "needs a skill to apply to")
    if not 0 <= agent_filter.min_proficiency <= MAX_LEVEL:
        raise InvalidField("min_proficiency", f"{agent_filter.min_proficiency} is out of range 0..{MAX_LEVEL}")
    if agent_filter.queue:
        check_catalog_name("queue", agent_filter.queue)
    language = check_language_tag("language", agent_filter.language) if agent_filter.language else ""
    return replace(agent_filter, language=language)


def validate_page_size(page_size: int) -> int:
    """0 asks for the default page; anything above the maximum is refused rather than silently cut."""
    if page_size < 0 or page_size > MAX_PAGE_SIZE:
        raise InvalidField("page_size", f"{page_size} is out of range 0..{MAX_PAGE_SIZE}")
    return page_size or 100
