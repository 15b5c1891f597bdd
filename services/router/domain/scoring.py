"""Scoring eligible agents: sticky first, then proficiency fit, then longest-idle or least-occupied.

The score is one number whose order matches that lexicographic order: the sticky bonus (100) dominates any
proficiency difference (>= 1 after x10 for up to ten required skills), which dominates the tie-breaker in [0, 1).
Equal scores fall back to the smallest agent id, so the choice is deterministic.
"""

from __future__ import annotations

from services.router.domain.model import Agent

STICKY_BONUS = 100.0
PROFICIENCY_WEIGHT = 10.0
# Idle time at which the longest-idle tie-breaker reaches one half; it saturates towards 1.
IDLE_HALF_S = 60.0
LEAST_OCCUPIED = "least_occupied"


def proficiency_fit(agent: Agent, skills: tuple[tuple[str, int], ...]) -> float:
    """Mean proficiency over the required skills (higher is a better fit)."""
    if not skills:
        return 0.0
    have = agent.spec.skills
    return sum(have.get(skill, 0) for skill, _ in skills) / len(skills)


def score(agent: Agent, skills: tuple[tuple[str, int], ...], scoring: str, sticky: bool, now: float) -> float:
    if scoring == LEAST_OCCUPIED:
        tie = max(0.0, 1.0 - agent.occupancy) * 0.999
    else:
        idle_s = max(0.0, now - agent.idle_since)
        tie = idle_s / (idle_s + IDLE_HALF_S)
    return (STICKY_BONUS if sticky else 0.0) + PROFICIENCY_WEIGHT * proficiency_fit(agent, skills) + tie


def components(
    agent: Agent, skills: tuple[tuple[str, int], ...], scoring: str, sticky: bool, now: float
) -> dict[str, float]:
    """The parts of `score`, for the decision record."""
    parts = {"sticky": 1.0 if sticky else 0.0, "proficiency": proficiency_fit(agent, skills)}
    if scoring == LEAST_OCCUPIED:
        parts["occupancy"] = agent.occupancy
    else:
        parts["idle_s"] = max(0.0, now - agent.idle_since)
    return parts
