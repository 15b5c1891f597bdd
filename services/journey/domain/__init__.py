"""Pure journey logic: selecting a customer's records and turning them into timelines."""

from services.journey.domain.model import ContactJourney, Decision, Journey, OfferOutcome, Sla, Step
from services.journey.domain.timeline import build_journey, select_events
from services.journey.domain.traces import SpanSummary, parse_span, spans_by_contact

__all__ = [
    "ContactJourney",
    "Decision",
    "Journey",
    "OfferOutcome",
    "Sla",
    "SpanSummary",
    "Step",
    "build_journey",
    "parse_span",
    "select_events",
    "spans_by_contact",
]
