"""Choosing the agent for a contact among candidates, with the decision record that explains the choice."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from services.router.domain.agent_index import AgentIndex
from services.router.domain.eligibility import BASE_STEP, Eligibility
from services.router.domain.events import Decision
from services.router.domain.model import Agent
from services.router.domain.scoring import (
    IDLE_HALF_S,
    LEAST_OCCUPIED,
    PROFICIENCY_WEIGHT,
    STICKY_BONUS,
    FeedbackScore,
    components,
    score,
)

# An agent's feedback score for the contact being matched; None where the queue routes without feedback.
FeedbackOf = Callable[[str], FeedbackScore] | None


@dataclass(frozen=True, slots=True)
class Match:
    agent: Agent
    decision: Decision
    needs_translation: bool


def _with_step(reason: str, step: str) -> str:
    return reason if step == BASE_STEP else f"{reason}; relaxation step {step}"


def _summary(sticky: bool, eligible: int, parts: Mapping[str, float]) -> str:
    if sticky:
        return "sticky: previous agent of this customer"
    if "idle_s" in parts:
        then = f"longest idle ({parts['idle_s']:.0f} s)"
    else:
        then = f"least occupied ({parts['occupancy']:.0%})"
    feedback = ""
    if parts.get("feedback"):
        feedback = f", recent CSAT {parts['csat']:.0%} of {parts['csat_responses']:.0f} answers"
    return f"best proficiency fit {parts['proficiency']:.1f}{feedback}, then {then} of {eligible} eligible compared"


def choose_agent(
    candidates: Iterable[Agent],
    eligibility: Eligibility,
    scoring: str,
    preferred_agent: str | None,
    now: float,
    considered: int,
    filtered: dict[str, int],
    *,
    prefiltered: bool = True,
    feedback: FeedbackOf = None,
) -> Match | None:
    """The best eligible agent among `candidates`, explained.

    `considered` and `filtered` describe the agents the indexes already ruled out; candidates come from the
    ready index (`prefiltered`: pending offers, skill levels and past declines are left to check) or are checked
    in full.
    This loop is the hot path of routing, so the score of `scoring.score` is computed inline.
    """
    counts = filtered  # the caller's funnel; this search adds the agents it examined and ruled out
    skills = eligibility.skills
    per_skill = PROFICIENCY_WEIGHT / len(skills) if skills else 0.0
    declined = eligibility.declined_by
    least_occupied = scoring == LEAST_OCCUPIED
    best_value = -1.0
    best_agent: Agent | None = None
    eligible = 0
    for agent in candidates:
        if not prefiltered:
            reason = eligibility.rejection(agent)
            if reason is not None:
                counts[reason] = counts.get(reason, 0) + 1
                continue
        if agent.offer_id is not None:
            counts["capacity"] = counts.get("capacity", 0) + 1  # ready, but busy with another offer
            continue
        have = agent.spec.skills
        total = 0
        for skill, minimum in skills:
            level = have.get(skill, 0)
            if level < minimum:
                break
            total += level
        else:
            if declined and agent.agent_id in declined:
                counts["declined"] = counts.get("declined", 0) + 1
                continue
            eligible += 1
            if least_occupied:
                tie = max(0.0, 1.0 - agent.occupancy) * 0.999
            else:
                idle_s = now - agent.idle_since
                tie = idle_s / (idle_s + IDLE_HALF_S) if idle_s > 0 else 0.0
            value = per_skill * total + tie
            if feedback is not None:
                value += feedback(agent.agent_id).term
            if agent.agent_id == preferred_agent:
                value += STICKY_BONUS
            if value > best_value or (value == best_value and best_agent and agent.agent_id < best_agent.agent_id):
                best_value, best_agent = value, agent
            continue
        counts["skill"] = counts.get("skill", 0) + 1
    if best_agent is None:
        return None
    sticky = best_agent.agent_id == preferred_agent
    parts = components(best_agent, skills, scoring, sticky, now, feedback(best_agent.agent_id) if feedback else None)
    decision = Decision(
        candidates_considered=considered,
        filtered_out={reason: n for reason, n in counts.items() if n > 0},
        chosen_agent_id=best_agent.agent_id,
        score=best_value,
        score_components=parts,
        relaxation_step=eligibility.step_name,
        summary=_with_step(_summary(sticky, eligible, parts), eligibility.step_name),
    )
    return Match(best_agent, decision, eligibility.needs_translation(best_agent))


def pulled_decision(
    agent: Agent, eligibility: Eligibility, scoring: str, sticky: bool, now: float, feedback: FeedbackOf = None
) -> Match:
    """The record for an agent who freed capacity and pulled the best waiting contact they may take."""
    mine = feedback(agent.agent_id) if feedback is not None else None
    parts = components(agent, eligibility.skills, scoring, sticky, now, mine)
    reason = "agent freed capacity and pulled the first waiting contact by priority, SLA deadline, arrival"
    if sticky:
        reason = f"sticky: previous agent of this customer; {reason}"
    decision = Decision(
        candidates_considered=1,
        filtered_out={},
        chosen_agent_id=agent.agent_id,
        score=score(agent, eligibility.skills, scoring, sticky, now, mine),
        score_components=parts,
        relaxation_step=eligibility.step_name,
        summary=_with_step(reason, eligibility.step_name),
    )
    return Match(agent, decision, eligibility.needs_translation(agent))


def best_ready_agent(
    index: AgentIndex,
    eligibility: Eligibility,
    scoring: str,
    preferred_agent: str | None,
    now: float,
    total_agents: int,
    feedback: FeedbackOf = None,
) -> Match | None:
    """Search the ready index for the contact's best agent; the indexes' own counts explain the agents it never
    had to look at (the decision record's funnel)."""
    groups = eligibility.groups
    channel = eligibility.channel
    members = available = ready = 0
    for group in groups:
        members += index.member_count(group)
        available += index.available_count(group)
        ready += index.ready_count(group, channel)
    filtered = {
        "membership": total_agents - members,
        "offline": members - available,
        "capacity": available - ready,
    }
    by_language = index.ready_buckets(groups, channel, eligibility.languages_to_match)
    speakers = sum(len(bucket) for bucket in by_language)
    filtered["language"] = ready - speakers
    if not eligibility.skills:
        return choose_agent(
            _union(index, by_language),
            eligibility,
            scoring,
            preferred_agent,
            now,
            total_agents,
            filtered,
            feedback=feedback,
        )
    # Speakers of the language with the contact's rarest required skill at or above its minimum, per level.
    by_level: list[list[dict[str, None]]] = []
    fewest = -1
    for levels in eligibility.skill_levels:
        found, size = index.ready_by_level(groups, channel, levels)
        if fewest < 0 or size < fewest:
            by_level, fewest = found, size
    filtered["skill"] = speakers - fewest
    if len(eligibility.skills) > 1:  # the fit averages several skills: every level competes
        every = [bucket for buckets in by_level for bucket in buckets]
        return choose_agent(
            _union(index, every), eligibility, scoring, preferred_agent, now, total_agents, filtered, feedback=feedback
        )
    # One skill: the fit is its level, so the best level with an eligible agent wins outright.
    for buckets in by_level:
        if buckets:
            match = choose_agent(
                _union(index, buckets),
                eligibility,
                scoring,
                preferred_agent,
                now,
                total_agents,
                filtered,
                feedback=feedback,
            )
            if match is not None:
                return match
    return None


def _union(index: AgentIndex, buckets: list[dict[str, None]]) -> Iterator[Agent]:
    """The agents of possibly overlapping buckets of agent ids, each once."""
    agent_of = index.agents.__getitem__
    if len(buckets) == 1:
        return map(agent_of, buckets[0])
    merged: dict[str, None] = {}
    for bucket in buckets:
        merged.update(bucket)
    return map(agent_of, merged)
