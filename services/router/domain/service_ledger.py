"""A bounded rolling window of the routing facts and survey answers that service reports are computed from.

Facts arrive in any order (routing.events and contacts.feedback are separate topics, a gateway's REPLY_SENT may
land after COMPLETED), so the ledger keeps per-contact trails. What a report reads (the completed contacts, each
conversation's sorted queue times) is kept up to date fact by fact, so a report only aggregates: about 0.15 s for
100 000 contacts.

The bound: at most `max_contacts` contact trails and as many survey answers (the oldest go first), and, each
time `prune(now)` is called, nothing that started more than `window_s` before `now`. A trail is a few hundred
bytes, so the router's default of 100 000 contacts holds some tens of MB.
"""

from __future__ import annotations

from bisect import insort
from collections import OrderedDict
from dataclasses import dataclass

from services.router.domain.service_report import (
    ALL,
    DEFAULT_REOPEN_WINDOW_S,
    Attribution,
    CompletedContact,
    GroupKey,
    KeyOf,
    Period,
    Scale,
    ServiceRow,
    SurveyAnswer,
    figures_by,
    service_report,
)


@dataclass(slots=True)
class _Trail:
    """What is known so far of one contact."""

    started_at: float
    conversation_id: str = ""
    received_at: float | None = None
    queued_at: float | None = None
    first_reply_at: float | None = None
    attribution: Attribution | None = None
    completed_at: float | None = None

    def completed_contact(self, contact_id: str) -> CompletedContact | None:
        if self.received_at is None or self.attribution is None or self.completed_at is None:
            return None  # its QUEUED (or COMPLETED) is not in the window
        return CompletedContact(
            contact_id=contact_id,
            conversation_id=self.conversation_id,
            attribution=self.attribution,
            received_at=self.received_at,
            completed_at=self.completed_at,
            first_reply_at=self.first_reply_at,
        )


class ServiceLedger:
    def __init__(self, window_s: float | None = None, max_contacts: int | None = None) -> None:
        self._window_s = window_s
        self._max_contacts = max_contacts
        self._trails: OrderedDict[str, _Trail] = OrderedDict()
        self._answers: OrderedDict[tuple[str, Scale], SurveyAnswer] = OrderedDict()
        # Read models of the trails, for reports.
        self._completed: dict[str, CompletedContact] = {}
        self._arrivals: dict[str, list[float]] = {}

    def __len__(self) -> int:
        return len(self._trails)

    @property
    def answers(self) -> int:
        return len(self._answers)

    # --- facts ------------------------------------------------------------------------------------------------
    def queued(self, contact_id: str, conversation_id: str, received_at: float, queued_at: float) -> None:
        """The contact's first QUEUED; a repeated one (a redelivered record) changes nothing."""
        trail = self._trail(contact_id, queued_at)
        if trail.queued_at is None:
            trail.conversation_id = conversation_id or contact_id
            trail.received_at = received_at
            trail.queued_at = queued_at
            insort(self._arrivals.setdefault(trail.conversation_id, []), queued_at)
            self._refresh(contact_id, trail)

    def replied(self, contact_id: str, at: float) -> None:
        trail = self._trail(contact_id, at)
        if trail.first_reply_at is None or at < trail.first_reply_at:
            trail.first_reply_at = at
            self._refresh(contact_id, trail)

    def completed(self, contact_id: str, attribution: Attribution, at: float) -> None:
        trail = self._trail(contact_id, at)
        trail.attribution, trail.completed_at = attribution, at
        self._refresh(contact_id, trail)

    def answered(self, answer: SurveyAnswer) -> bool:
        """One answer per survey and scale: the first recorded wins; False for a repeat (a redelivered record)."""
        key = (answer.survey_id or answer.contact_id, answer.scale)
        if key in self._answers:
            return False
        self._answers[key] = answer
        if self._max_contacts is not None:
            while len(self._answers) > self._max_contacts:
                self._answers.popitem(last=False)
        return True

    def prune(self, now: float) -> None:
        """Forget what started before the window; trails are kept in arrival order, so the oldest come first."""
        if self._window_s is None:
            return
        horizon = now - self._window_s
        while self._trails and next(iter(self._trails.values())).started_at < horizon:
            self._forget_oldest()
        while self._answers and _answer_time(next(iter(self._answers.values()))) < horizon:
            self._answers.popitem(last=False)

    # --- reports ----------------------------------------------------------------------------------------------
    def report(
        self, period: Period, group_by: str = ALL, reopen_window_s: float = DEFAULT_REOPEN_WINDOW_S
    ) -> list[ServiceRow]:
        return service_report(
            self._completed, self._arrivals, self._answers.values(), period, group_by, reopen_window_s
        )

    def figures_by(
        self, period: Period, key_of: KeyOf, reopen_window_s: float = DEFAULT_REOPEN_WINDOW_S
    ) -> dict[GroupKey, ServiceRow]:
        return figures_by(self._completed, self._arrivals, self._answers.values(), period, key_of, reopen_window_s)

    def _refresh(self, contact_id: str, trail: _Trail) -> None:
        completed = trail.completed_contact(contact_id)
        if completed is not None:
            self._completed[contact_id] = completed

    def _forget_oldest(self) -> None:
        contact_id, trail = self._trails.popitem(last=False)
        self._completed.pop(contact_id, None)
        if trail.queued_at is not None:
            times = self._arrivals[trail.conversation_id]
            times.remove(trail.queued_at)
            if not times:
                del self._arrivals[trail.conversation_id]

    def _trail(self, contact_id: str, at: float) -> _Trail:
        trail = self._trails.get(contact_id)
        if trail is None:
            trail = self._trails[contact_id] = _Trail(started_at=at)
            if self._max_contacts is not None:
                while len(self._trails) > self._max_contacts:
                    self._forget_oldest()
        return trail


def _answer_time(answer: SurveyAnswer) -> float:
    return answer.completed_at or answer.answered_at
