"""Pure journey logic: selecting a customer's records and turning them into timelines."""

from services.journey.domain.timeline import (
    ContactJourney,
    Decision,
    Journey,
    OfferOutcome,
    Sla,
    Step,
    build_journey,
    select_events,
)
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
