"""Scoring eligible agents: sticky first, then proficiency fit, then longest-idle or least-occupied.

The score is one number whose order matches that lexicographic order: the sticky bonus (100) dominates any
proficiency difference (>= 1 after x10 for up to ten required skills), which dominates the tie-breaker in [0, 1).
Equal scores fall back to the smallest agent id, so the choice is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.router.domain.model import Agent

STICKY_BONUS = 100.0
PROFICIENCY_WEIGHT = 10.0
# Idle time at which the longest-idle tie-breaker reaches one half; it saturates towards 1.
IDLE_HALF_S = 60.0


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    components: dict[str, float]


def proficiency_fit(agent: Agent, skills: tuple[tuple[str, int], ...]) -> float:
    if not skills:
        return 0.0
    have = agent.spec.skills
    return sum(have.get(skill, 0) for skill, _ in skills) / len(skills)


def tie_breaker(agent: Agent, scoring: str, now: float) -> tuple[str, float, float]:
    """(component name, raw value, normalized value in [0, 1)) for the queue's secondary criterion."""
    if scoring == "least_occupied":
        capacity = sum(agent.spec.capacity.values()) or 1
        occupancy = agent.total_load / capacity
        return "occupancy", occupancy, max(0.0, 1.0 - occupancy) * 0.999
    idle_s = max(0.0, now - agent.idle_since)
    return "idle_s", idle_s, idle_s / (idle_s + IDLE_HALF_S)


def score_agent(agent: Agent, skills: tuple[tuple[str, int], ...], scoring: str, sticky: bool, now: float) -> Score:
    fit = proficiency_fit(agent, skills)
    name, raw, normalized = tie_breaker(agent, scoring, now)
    value = (STICKY_BONUS if sticky else 0.0) + PROFICIENCY_WEIGHT * fit + normalized
    return Score(value, {"sticky": 1.0 if sticky else 0.0, "proficiency": fit, name: raw})


def better(a: tuple[float, str], b: tuple[float, str]) -> bool:
    """True when (score, agent_id) `a` beats `b`: higher score, then smaller agent id."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] < b[1])
