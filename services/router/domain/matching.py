"""Choosing the agent for a contact among candidates, with the decision record that explains the choice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.router.domain.eligibility import Eligibility
from services.router.domain.events import Decision
from services.router.domain.model import Agent
from services.router.domain.scoring import Score, better, score_agent


@dataclass(frozen=True, slots=True)
class Match:
    agent: Agent
    decision: Decision
    needs_translation: bool


def _summary(step: str, sticky: bool, eligible: int, components: dict[str, float]) -> str:
    if sticky:
        reason = "sticky: previous agent of this customer"
    elif "idle_s" in components:
        reason = (
            f"best proficiency fit {components['proficiency']:.1f}, then longest idle "
            f"({components['idle_s']:.0f} s) among {eligible} eligible"
        )
    else:
        reason = (
            f"best proficiency fit {components['proficiency']:.1f}, then least occupied "
            f"({components['occupancy']:.0%}) among {eligible} eligible"
        )
    return reason if step == "base" else f"{reason}; relaxation step {step}"


def choose_agent(
    candidates: Iterable[Agent],
    eligibility: Eligibility,
    scoring: str,
    preferred_agent: str | None,
    now: float,
) -> tuple[Match | None, int, dict[str, int]]:
    """The best eligible agent among `candidates`, plus the count considered and filtered per reason."""
    considered = 0
    filtered: dict[str, int] = {}
    best: tuple[float, str] | None = None
    best_agent: Agent | None = None
    best_score: Score | None = None
    eligible = 0
    for agent in candidates:
        considered += 1
        reason = eligibility.rejection(agent)
        if reason is not None:
            filtered[reason] = filtered.get(reason, 0) + 1
            continue
        eligible += 1
        score = score_agent(agent, eligibility.skills, scoring, agent.agent_id == preferred_agent, now)
        key = (score.value, agent.agent_id)
        if best is None or better(key, best):
            best, best_agent, best_score = key, agent, score
    if best_agent is None or best_score is None:
        return None, considered, filtered
    sticky = best_score.components["sticky"] > 0
    decision = Decision(
        candidates_considered=considered,
        filtered_out=filtered,
        chosen_agent_id=best_agent.agent_id,
        score=best_score.value,
        score_components=best_score.components,
        relaxation_step=eligibility.step_name,
        summary=_summary(eligibility.step_name, sticky, eligible, best_score.components),
    )
    return Match(best_agent, decision, eligibility.needs_translation(best_agent)), considered, filtered


def pulled_decision(agent: Agent, eligibility: Eligibility, scoring: str, sticky: bool, now: float) -> Match:
    """The record for an agent who freed capacity and pulled the best waiting contact they may take."""
    score = score_agent(agent, eligibility.skills, scoring, sticky, now)
    decision = Decision(
        candidates_considered=1,
        filtered_out={},
        chosen_agent_id=agent.agent_id,
        score=score.value,
        score_components=score.components,
        relaxation_step=eligibility.step_name,
        summary=("sticky: previous agent of this customer, " if sticky else "")
        + "agent freed capacity and pulled the first waiting contact by priority, SLA deadline, arrival"
        + ("" if eligibility.step_name == "base" else f"; relaxation step {eligibility.step_name}"),
    )
    return Match(agent, decision, eligibility.needs_translation(agent))
