"""The replay window: a signed message whose platform timestamp is older than the window is not published.

Signatures prove a body came from the platform, not that it is new: a captured delivery stays validly signed
forever. Within the window, the dedupe store (which must remember at least as long) catches a replay; beyond it,
the platform's own timestamp does. The window must outlast the platforms' retries (WhatsApp retries for up to
7 days), or genuine late retries would be refused: they are then dead-lettered, never dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from services.social_gateway.domain.messages import InboundMessage, Normalized


@dataclass(frozen=True, slots=True)
class Screened:
    fresh: Normalized
    stale: tuple[InboundMessage, ...]


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    max_age_s: float  # 0: no window

    def screen(self, normalized: Normalized, now_s: float) -> Screened:
        """Splits off messages sent before the window; a message without a timestamp (0) is kept."""
        if not self.max_age_s:
            return Screened(normalized, ())
        oldest = now_s - self.max_age_s
        stale = tuple(m for m in normalized.messages if 0 < m.sent_at_s < oldest)
        if not stale:
            return Screened(normalized, ())
        stale_ids = {id(m) for m in stale}
        fresh = tuple(m for m in normalized.messages if id(m) not in stale_ids)
        return Screened(dataclasses.replace(normalized, messages=fresh), stale)
