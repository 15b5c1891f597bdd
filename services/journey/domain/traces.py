"""Spans from the JSON-lines span files, grouped by the contact whose trace they belong to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

CONTACT_ID = "contact.id"
CONVERSATION_ID = "conversation.id"


@dataclass(frozen=True)
class SpanSummary:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    name: str
    start: float
    duration_s: float
    status: str
    contact_id: str
    conversation_id: str


def parse_span(raw: Mapping[str, object]) -> SpanSummary | None:
    """A span as `JsonLinesSpanExporter` writes it, or None for anything else (a foreign or truncated line)."""
    trace_id, span_id, start_ns, end_ns = (
        raw.get("trace_id"),
        raw.get("span_id"),
        raw.get("start_ns"),
        raw.get("end_ns"),
    )
    if not (isinstance(trace_id, str) and isinstance(span_id, str) and isinstance(start_ns, int)):
        return None
    attributes = raw.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    parent = raw.get("parent_span_id")
    return SpanSummary(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent if isinstance(parent, str) else None,
        service=str(raw.get("service") or "unknown"),
        name=str(raw.get("name") or ""),
        start=start_ns / 1e9,
        duration_s=(end_ns - start_ns) / 1e9 if isinstance(end_ns, int) else 0.0,
        status=str(raw.get("status") or "UNSET"),
        contact_id=str(attributes.get(CONTACT_ID) or ""),
        conversation_id=str(attributes.get(CONVERSATION_ID) or ""),
    )


def contacts_named_by_spans(spans: Iterable[SpanSummary], query: str) -> set[str]:
    """Contacts that spans tie to the query, for contacts the router has not (yet) written about."""
    return {span.contact_id for span in spans if span.contact_id and query in (span.contact_id, span.conversation_id)}


def spans_by_contact(spans: Iterable[SpanSummary], contact_ids: Collection[str]) -> dict[str, list[SpanSummary]]:
    """Every span of each contact's traces, by start time; a trace is a contact's when a span in it names it."""
    spans = list(spans)
    traces_of: dict[str, set[str]] = defaultdict(set)
    for span in spans:
        if span.contact_id in contact_ids:
            traces_of[span.trace_id].add(span.contact_id)
    grouped: dict[str, list[SpanSummary]] = defaultdict(list)
    for span in spans:
        for contact_id in traces_of.get(span.trace_id, ()):
            grouped[contact_id].append(span)
    return {
        contact_id: sorted(found, key=lambda span: (span.start, span.span_id)) for contact_id, found in grouped.items()
    }
