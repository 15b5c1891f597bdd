"""Recent CSAT answers per agent and skill, for feedback-aware routing.

Bounded: per (agent, skill) only the newest MAX_ANSWERS_PER_SKILL answers are kept, and a query looks back at
most the queue's window (<= 90 days). An answer about a contact that required several skills is filed under each
of them but counted once per query. A contact without required skills files under the key "" (any work).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from services.router.domain.policy import FeedbackRouting
from services.router.domain.scoring import FeedbackScore, feedback_score
from services.router.domain.service_report import CSAT_SATISFIED

MAX_ANSWERS_PER_SKILL = 200
ANY_WORK = ""
DAY_S = 86_400.0


class AgentSatisfaction:
    def __init__(self) -> None:
        # (agent, skill) -> (answered at, satisfied, answer number), oldest first
        self._answers: dict[tuple[str, str], deque[tuple[float, bool, int]]] = {}
        self._count = 0

    def record(self, agent_id: str, skills: Iterable[str], rating: int, at: float) -> None:
        """One CSAT answer (1-5) about work of `agent_id` on a contact that required `skills`."""
        self._count += 1
        entry = (at, rating >= CSAT_SATISFIED, self._count)
        for skill in set(skills) or {ANY_WORK}:
            answers = self._answers.get((agent_id, skill))
            if answers is None:
                answers = self._answers[(agent_id, skill)] = deque(maxlen=MAX_ANSWERS_PER_SKILL)
            answers.append(entry)

    def score(self, agent_id: str, skills: Iterable[str], policy: FeedbackRouting, now: float) -> FeedbackScore:
        """The agent's CSAT over the answers about any of `skills` in the policy's window, and its score term."""
        since = now - policy.window_days * DAY_S
        seen: set[int] = set()
        satisfied = 0
        for skill in set(skills) or {ANY_WORK}:
            for at, happy, number in reversed(self._answers.get((agent_id, skill), ())):
                if at >= since and number not in seen:  # answers replayed from Kafka need not be in time order
                    seen.add(number)
                    satisfied += happy
        return feedback_score(satisfied, len(seen), policy.weight, policy.min_responses)
