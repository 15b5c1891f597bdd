"""Spans from the JSON-lines files the services write under TRACE_DIR (`<service>.jsonl`)."""

from __future__ import annotations

import json
from pathlib import Path

from services.journey.domain import SpanSummary, parse_span


def read_spans(trace_dir: Path) -> list[SpanSummary]:
    """Every span in every `*.jsonl` file; lines that are not spans (a torn last line, say) are skipped."""
    spans: list[SpanSummary] = []
    for path in sorted(trace_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    raw = json.loads(line)
                except ValueError:
                    continue
                if isinstance(raw, dict) and (span := parse_span(raw)) is not None:
                    spans.append(span)
    return spans
