"""Service figures (CSAT, NPS, first response, resolution, reopens) from completed contacts and survey answers.

The definitions, shared by RoutingAdmin.GetServiceReport, the Prometheus gauges and the `report` script:
- The population is the contacts COMPLETED in [since, until). A survey answer counts when its contact does; an
  answer whose contact is unknown (its routing history aged out) counts by the completion time it carries.
- A contact belongs to the agent, queue, channel and language of its COMPLETED event: a contact requeued and
  finished by a second agent is the second agent's. Answers are attributed like their contact.
- CSAT: the share of CSAT answers rated 4 or 5, in percent.
- NPS: the percent of NPS answers rated 9-10 (promoters) minus the percent rated 0-6 (detractors).
- First response time: the first REPLY_SENT minus received_at, over the completed contacts that got a reply.
- Resolution time: COMPLETED minus received_at.
- Reopened: another contact of the same conversation was queued within the reopen window after COMPLETED.
- p90 is the nearest rank: the ceil(0.9 n)-th smallest value. No data gives 0 responses and 0.0.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

GROUPINGS = ("queue", "agent", "channel", "language", "all")
ALL = "all"
DEFAULT_REOPEN_WINDOW_S = 7 * 24 * 3600.0
CSAT_SATISFIED = 4  # CSAT 1-5: 4 and 5 are satisfied
NPS_PROMOTER = 9  # NPS 0-10: 9-10 promote, 0-6 detract
NPS_DETRACTOR = 6


class Scale(Enum):
    CSAT = "csat"
    NPS = "nps"


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who and what a completed contact (and the answers about it) count for."""

    agent_id: str
    queue: str
    channel: str
    language: str


@dataclass(frozen=True, slots=True)
class CompletedContact:
    contact_id: str
    conversation_id: str
    attribution: Attribution
    received_at: float
    completed_at: float
    first_reply_at: float | None = None


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    survey_id: str
    contact_id: str
    scale: Scale
    rating: int
    # As the answer's ticket says; used only when the contact's own routing history is not known.
    attribution: Attribution
    completed_at: float
    answered_at: float


@dataclass(frozen=True, slots=True)
class Period:
    """[since, until) in epoch seconds."""

    since: float = -math.inf
    until: float = math.inf

    def __contains__(self, at: float) -> bool:
        return self.since <= at < self.until


@dataclass(frozen=True, slots=True)
class ServiceRow:
    key: str
    completed: int
    csat_responses: int
    csat_percent: float
    nps_responses: int
    nps: float
    first_responses: int
    first_response_avg_s: float
    first_response_p90_s: float
    resolution_avg_s: float
    resolution_p90_s: float
    reopened: int
    reopen_rate_percent: float


GroupKey = tuple[str, ...]
KeyOf = Callable[[Attribution], GroupKey]

KEYS: Mapping[str, KeyOf] = {
    "queue": lambda a: (a.queue,),
    "agent": lambda a: (a.agent_id,),
    "channel": lambda a: (a.channel,),
    "language": lambda a: (a.language,),
    ALL: lambda _: (ALL,),
}


def p90(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


@dataclass
class _Tally:
    completed: int = 0
    reopened: int = 0
    first_responses: list[float] = field(default_factory=list)
    resolutions: list[float] = field(default_factory=list)
    csat: list[int] = field(default_factory=list)
    nps: list[int] = field(default_factory=list)

    def row(self, key: str) -> ServiceRow:
        promoters = sum(1 for rating in self.nps if rating >= NPS_PROMOTER)
        detractors = sum(1 for rating in self.nps if rating <= NPS_DETRACTOR)
        return ServiceRow(
            key=key,
            completed=self.completed,
            csat_responses=len(self.csat),
            csat_percent=_percent(sum(1 for rating in self.csat if rating >= CSAT_SATISFIED), len(self.csat)),
            nps_responses=len(self.nps),
            nps=_percent(promoters, len(self.nps)) - _percent(detractors, len(self.nps)),
            first_responses=len(self.first_responses),
            first_response_avg_s=_mean(self.first_responses),
            first_response_p90_s=p90(self.first_responses),
            resolution_avg_s=_mean(self.resolutions),
            resolution_p90_s=p90(self.resolutions),
            reopened=self.reopened,
            reopen_rate_percent=_percent(self.reopened, self.completed),
        )


def figures_by(
    contacts: Mapping[str, CompletedContact],
    arrivals: Mapping[str, Sequence[float]],
    answers: Iterable[SurveyAnswer],
    period: Period,
    key_of: KeyOf,
    reopen_window_s: float = DEFAULT_REOPEN_WINDOW_S,
) -> dict[GroupKey, ServiceRow]:
    """The figures of each group `key_of` puts a completed contact in.

    `contacts` holds every completed contact known, by id (not only those in the period: an answer about a
    contact completed outside it must not count); `arrivals` the sorted queue times of each conversation's contacts.
    """
    tallies: dict[GroupKey, _Tally] = {}

    def tally_of(attribution: Attribution) -> _Tally:
        key = key_of(attribution)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally()
        return tally

    for contact in contacts.values():
        if contact.completed_at not in period:
            continue
        tally = tally_of(contact.attribution)
        tally.completed += 1
        tally.resolutions.append(max(0.0, contact.completed_at - contact.received_at))
        if contact.first_reply_at is not None:
            tally.first_responses.append(max(0.0, contact.first_reply_at - contact.received_at))
        if _reopened(contact, arrivals.get(contact.conversation_id, ()), reopen_window_s):
            tally.reopened += 1
    for answer in answers:
        known = contacts.get(answer.contact_id)
        attribution, completed_at = (
            (known.attribution, known.completed_at) if known else (answer.attribution, answer.completed_at)
        )
        if completed_at not in period:
            continue
        ratings = tally_of(attribution).csat if answer.scale is Scale.CSAT else tally_of(attribution).nps
        ratings.append(answer.rating)
    return {key: tally.row("/".join(key)) for key, tally in tallies.items()}


def service_report(
    contacts: Mapping[str, CompletedContact],
    arrivals: Mapping[str, Sequence[float]],
    answers: Iterable[SurveyAnswer],
    period: Period,
    group_by: str = ALL,
    reopen_window_s: float = DEFAULT_REOPEN_WINDOW_S,
) -> list[ServiceRow]:
    """One row per group (by key), or the single "all" row; a period with no data gives an all-zero "all" row."""
    if group_by not in KEYS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}, not {group_by!r}")
    rows = figures_by(contacts, arrivals, answers, period, KEYS[group_by], reopen_window_s)
    if group_by == ALL and not rows:
        return [_Tally().row(ALL)]
    return [rows[key] for key in sorted(rows)]


def _reopened(contact: CompletedContact, queued_times: Sequence[float], window_s: float) -> bool:
    """Whether any contact of the conversation was queued in (completed_at, completed_at + window]."""
    after = bisect_right(queued_times, contact.completed_at)
    return after < len(queued_times) and queued_times[after] <= contact.completed_at + window_s
