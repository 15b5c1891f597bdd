"""Scoring eligible agents: sticky first, then proficiency fit, then longest-idle or least-occupied.

The score is one number whose order matches that lexicographic order: the sticky bonus (100) dominates any
proficiency difference (>= 1 after x10 for up to ten required skills), which dominates the tie-breaker in [0, 1).
Equal scores fall back to the smallest agent id, so the choice is deterministic.

A queue with feedback routing on (policy `feedback_routing`) adds the agent's recent-CSAT term, within
[-weight, +weight] for weight <= 0.5: it competes with the tie-breaker, not with proficiency (see FeedbackRouting).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.router.domain.model import Agent

STICKY_BONUS = 100.0
PROFICIENCY_WEIGHT = 10.0
# Idle time at which the longest-idle tie-breaker reaches one half; it saturates towards 1.
IDLE_HALF_S = 60.0
LEAST_OCCUPIED = "least_occupied"


@dataclass(frozen=True, slots=True)
class FeedbackScore:
    """An agent's recent CSAT answers for a contact's skills, and the score term they earn."""

    responses: int
    satisfied: int
    term: float


NO_FEEDBACK = FeedbackScore(0, 0, 0.0)


def feedback_score(satisfied: int, responses: int, weight: float, min_responses: int) -> FeedbackScore:
    """`weight * (2 * share - 1)`: +weight for all satisfied, -weight for none, 0 below `min_responses` answers."""
    if responses < max(min_responses, 1):
        return FeedbackScore(responses, satisfied, 0.0)
    return FeedbackScore(responses, satisfied, weight * (2.0 * satisfied / responses - 1.0))


def proficiency_fit(agent: Agent, skills: tuple[tuple[str, int], ...]) -> float:
    """Mean proficiency over the required skills (higher is a better fit)."""
    if not skills:
        return 0.0
    have = agent.spec.skills
    return sum(have.get(skill, 0) for skill, _ in skills) / len(skills)


def score(
    agent: Agent,
    skills: tuple[tuple[str, int], ...],
    scoring: str,
    sticky: bool,
    now: float,
    feedback: FeedbackScore | None = None,
) -> float:
    if scoring == LEAST_OCCUPIED:
        tie = max(0.0, 1.0 - agent.occupancy) * 0.999
    else:
        idle_s = max(0.0, now - agent.idle_since)
        tie = idle_s / (idle_s + IDLE_HALF_S)
    term = feedback.term if feedback is not None else 0.0
    return (STICKY_BONUS if sticky else 0.0) + PROFICIENCY_WEIGHT * proficiency_fit(agent, skills) + tie + term


def components(
    agent: Agent,
    skills: tuple[tuple[str, int], ...],
    scoring: str,
    sticky: bool,
    now: float,
    feedback: FeedbackScore | None = None,
) -> dict[str, float]:
    """The parts of `score`, for the decision record; the feedback parts only where feedback routing is on."""
    parts = {"sticky": 1.0 if sticky else 0.0, "proficiency": proficiency_fit(agent, skills)}
    if scoring == LEAST_OCCUPIED:
        parts["occupancy"] = agent.occupancy
    else:
        parts["idle_s"] = max(0.0, now - agent.idle_since)
    if feedback is not None:
        parts["feedback"] = feedback.term
        parts["csat_responses"] = float(feedback.responses)
        if feedback.responses:
            parts["csat"] = feedback.satisfied / feedback.responses
    return parts
