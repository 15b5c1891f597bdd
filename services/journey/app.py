"""The journey tool's composition root: reads `routing.events` and the span files, builds the journey."""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import Field

from contactrouting.config import ServiceSettings
from services.journey.adapters.routing_events import read_routing_events
from services.journey.adapters.span_files import read_spans
from services.journey.domain import Journey, build_journey


class JourneySettings(ServiceSettings):
    journey_read_timeout_s: float = Field(default=30.0, gt=0, description="Time allowed to read routing.events.")


def find_journey(settings: JourneySettings, query: str, *, trace_dir: Path | None = None) -> Journey:
    """The journey of whatever the query names; spans are read from `trace_dir` unless it is None."""
    spans = read_spans(trace_dir) if trace_dir is not None else []
    events = read_routing_events(settings, settings.journey_read_timeout_s)
    return build_journey(query, events, spans, now=time.time())
