"""Eligibility: which agents may take a contact under the relaxation step in force, and why the others may not."""

from __future__ import annotations

from dataclasses import dataclass

from services.router.domain.model import Agent, Contact, Presence
from services.router.domain.policy import RelaxationStep

UNDETERMINED_LANGUAGE = "und"
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
    declined_by: frozenset[str]
    step_name: str

    def language_ok(self, agent_languages: frozenset[str]) -> bool:
        return not self.language or self.language in agent_languages

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
        if not self.language_ok(spec.languages) and spec.languages.isdisjoint(self.fallback_languages):
            return "language"
        if spec.agent_id in self.declined_by:
            return "declined"
        return None

    def needs_translation(self, agent: Agent) -> bool:
        return not self.language_ok(agent.spec.languages)


def eligibility_for(contact: Contact, steps: tuple[RelaxationStep, ...]) -> Eligibility:
    """Requirements of `contact` with every step up to its current one applied (steps are cumulative)."""
    lower_by = 0
    groups = {contact.queue}
    fallback: set[str] = set()
    for step in steps[: contact.step_index + 1]:
        lower_by += step.lower_min_proficiency_by
        groups |= step.add_groups
        fallback |= step.fallback_languages
    language = contact.request.language
    return Eligibility(
        channel=contact.channel,
        skills=tuple(sorted((skill, max(1, level - lower_by)) for skill, level in contact.required_skills.items())),
        language="" if language == UNDETERMINED_LANGUAGE else language,
        fallback_languages=frozenset(fallback),
        groups=frozenset(groups),
        declined_by=frozenset(contact.declined_by),
        step_name=steps[contact.step_index].name if contact.step_index >= 0 else BASE_STEP,
    )
