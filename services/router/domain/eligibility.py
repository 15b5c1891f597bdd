"""Eligibility: which agents may take a contact under the relaxation step in force, and why the others may not."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from functools import lru_cache

from services.router.domain.facets import ANY_LANGUAGE, level_facets
from services.router.domain.model import Agent, Contact, Presence
from services.router.domain.policy import RelaxationStep

UNDETERMINED_LANGUAGE = "und"
_NOBODY: frozenset[str] = frozenset()
BASE_STEP = "base"


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The requirements a contact puts on an agent right now (after relaxation)."""

    channel: str
    skills: tuple[tuple[str, int], ...]
    # The contact's own language; empty when undetermined (then any language will do).
    language: str
    fallback_languages: frozenset[str]
    groups: frozenset[str]
    # The contact's own set of agents who declined it, shared (not copied) so it stays current; an empty frozenset
    # for requirements shared by contacts nobody declined (see eligibility_for).
    declined_by: Set[str]
    step_name: str
    # Ready-index facets to search: the contact's languages, and per required skill the facets per level.
    languages_to_match: tuple[str, ...]
    skill_levels: tuple[tuple[tuple[str, ...], ...], ...]

    def language_ok(self, agent_languages: frozenset[str]) -> bool:
        return not self.language or self.language in agent_languages

    def speaks(self, agent: Agent) -> bool:
        """The agent speaks the contact's language, or one the current step allows instead."""
        languages = agent.spec.languages
        return not self.language or self.language in languages or not languages.isdisjoint(self.fallback_languages)

    def rejection(self, agent: Agent) -> str | None:
        """The first filter the agent fails (offline, capacity, membership, skill, language, declined), or None."""
        spec = agent.spec
        if agent.presence is not Presence.AVAILABLE or not spec.active:
            return "offline"
        if agent.offer_id is not None or agent.free(self.channel) <= 0:
            return "capacity"
        if spec.queues.isdisjoint(self.groups):
            return "membership"
        skills = spec.skills
        for skill, minimum in self.skills:
            if skills.get(skill, 0) < minimum:
                return "skill"
        if not self.speaks(agent):
            return "language"
        if spec.agent_id in self.declined_by:
            return "declined"
        return None

    def needs_translation(self, agent: Agent) -> bool:
        return not self.language_ok(agent.spec.languages)


@dataclass(frozen=True, slots=True)
class StepProfile:
    """The cumulative effect of every relaxation step up to one of them (the base profile relaxes nothing)."""

    name: str
    lower_by: int
    extra_groups: frozenset[str]
    fallback_languages: frozenset[str]


def step_profiles(steps: tuple[RelaxationStep, ...]) -> tuple[StepProfile, ...]:
    """Profile i + 1 is in force at step index i; profile 0 before the first step."""
    profiles = [StepProfile(BASE_STEP, 0, frozenset(), frozenset())]
    for step in steps:
        last = profiles[-1]
        profiles.append(
            StepProfile(
                step.name,
                last.lower_by + step.lower_min_proficiency_by,
                last.extra_groups | step.add_groups,
                last.fallback_languages | step.fallback_languages,
            )
        )
    return tuple(profiles)


def eligibility_for(contact: Contact, profile: StepProfile) -> Eligibility:
    """Requirements of `contact` under the relaxation `profile` of its current step.

    A contact nobody declined shares its requirements with every contact of the same queue, channel, language and
    skills (they are cached, and most contacts are never declined); a declined contact gets its own, which see its
    set of decliners as it grows (`Contact.decline` drops the cached requirements when the first one appears)."""
    request = contact.request
    required = tuple(sorted(contact.required_skills.items()))
    if contact.declined_by:
        return _requirements(contact.queue, request.channel, request.language, required, profile, contact.declined_by)
    return _undeclined(contact.queue, request.channel, request.language, required, profile)


@lru_cache(maxsize=1 << 16)
def _undeclined(
    queue: str, channel: str, language: str, required: tuple[tuple[str, int], ...], profile: StepProfile
) -> Eligibility:
    return _requirements(queue, channel, language, required, profile, _NOBODY)


def _requirements(
    queue: str,
    channel: str,
    language: str,
    required: tuple[tuple[str, int], ...],
    profile: StepProfile,
    declined_by: Set[str],
) -> Eligibility:
    lower_by = profile.lower_by
    language = "" if language == UNDETERMINED_LANGUAGE else language
    skills = tuple((skill, max(1, level - lower_by)) for skill, level in required)
    # The contact's language first, then what the step allows instead; any language when undetermined.
    languages = (language, *sorted(profile.fallback_languages - {language})) if language else (ANY_LANGUAGE,)
    return Eligibility(
        channel=channel,
        skills=skills,
        language=language,
        fallback_languages=profile.fallback_languages,
        groups=profile.extra_groups | {queue} if profile.extra_groups else frozenset((queue,)),
        declined_by=declined_by,
        step_name=profile.name,
        languages_to_match=languages,
        skill_levels=tuple(level_facets(languages, skill, minimum) for skill, minimum in skills),
    )
