"""Pending offers: one per contact and one per agent at a time, each with a deadline."""

from __future__ import annotations

import heapq
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: str
    contact_id: str
    agent_id: str
    made_at: float
    expires_at: float
    needs_translation: bool


class OfferBook:
    def __init__(self) -> None:
        self._pending: dict[str, Offer] = {}
        self._deadlines: list[tuple[float, str]] = []
        self._issued = 0

    def __len__(self) -> int:
        return len(self._pending)

    def next_id(self, contact_id: str) -> str:
        """Offer ids are unique per engine run and readable: contact id plus a sequence number."""
        self._issued += 1
        return f"{contact_id}#{self._issued}"

    def add(self, offer: Offer) -> None:
        self._pending[offer.offer_id] = offer
        heapq.heappush(self._deadlines, (offer.expires_at, offer.offer_id))

    def get(self, offer_id: str) -> Offer | None:
        return self._pending.get(offer_id)

    def pop(self, offer_id: str) -> Offer | None:
        return self._pending.pop(offer_id, None)

    def expired(self, now: float) -> list[Offer]:
        """Remove and return pending offers whose deadline has passed, oldest first."""
        due: list[Offer] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            _, offer_id = heapq.heappop(self._deadlines)
            offer = self._pending.pop(offer_id, None)
            if offer is not None:
                due.append(offer)
        return due
