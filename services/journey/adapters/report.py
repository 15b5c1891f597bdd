"""A journey for people (an aligned timeline) or for programs (JSON with ISO-8601 UTC times)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from services.journey.domain import ContactJourney, Journey, OfferOutcome, SpanSummary, Step

# Fields holding epoch seconds; JSON shows them as ISO-8601 so that people can read the output too.
_INSTANTS = {"at", "received_at", "offered_at", "answered_at", "deadline", "start"}


def render_json(journey: Journey) -> str:
    return json.dumps(_with_iso_instants(asdict(journey)), indent=2, ensure_ascii=False)


def render_text(journey: Journey) -> str:
    if not journey.contacts:
        return f"no contact, conversation or customer matches {journey.query!r}"
    blocks = [f"journey of {journey.query}: {_count(len(journey.contacts), 'contact')}"]
    blocks.extend(_contact_block(contact) for contact in journey.contacts)
    return "\n\n".join(blocks)


def instant(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    if seconds < 10:
        return f"{sign}{seconds:.3f}s"
    if seconds < 60:
        return f"{sign}{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{sign}{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _contact_block(contact: ContactJourney) -> str:
    facts = [f"contact {contact.contact_id}", f"conversation {contact.conversation_id or '-'}"]
    facts += [value for value in (contact.channel, contact.language) if value]
    if contact.queue:
        facts.append(f"queue {contact.queue}, priority {contact.priority}")
    lines = [" · ".join([*facts, contact.state])]
    lines.append(f"  SLA: {_sla_line(contact)}")
    lines.append(
        f"  time to first offer {duration(contact.time_to_first_offer_s)} · "
        f"time to accept {duration(contact.time_to_accept_s)} · handle time {duration(contact.handle_time_s)}"
    )
    lines.append("")
    lines.append(f"  {'time':<24}  {'+prev':>8}  {'+total':>8}  {'step':<16}  details")
    lines.extend(_step_line(step) for step in contact.steps)
    if contact.offers:
        lines.append("")
        lines.append("  offers")
        lines.extend(_offer_line(offer) for offer in contact.offers)
    if contact.spans:
        lines.append("")
        lines.extend(_trace_lines(contact))
    return "\n".join(lines)


def _sla_line(contact: ContactJourney) -> str:
    sla = contact.sla
    if sla is None:
        return "no target"
    answered = f", answered after {duration(contact.time_to_accept_s)}" if sla.answered_at is not None else ""
    return f"target {duration(sla.target_s)} (deadline {instant(sla.deadline)}): {sla.status}{answered}"


def _step_line(step: Step) -> str:
    previous = f"+{duration(step.since_previous_s)}" if step.since_previous_s is not None else ""
    return (
        f"  {instant(step.at):<24}  {previous:>8}  {duration(step.since_received_s):>8}  {step.kind:<16}  "
        f"{_step_details(step)}"
    ).rstrip()


def _step_details(step: Step) -> str:
    parts: list[str] = []
    if step.kind in ("queued", "escalated", "requeued") and step.queue:
        parts.append(f"queue {step.queue}, priority {step.priority}")
    if step.agent_id:
        parts.append(f"agent {step.agent_id}")
    if step.offer_id:
        parts.append(f"offer {step.offer_id}" + (f" (attempt {step.attempt})" if step.attempt else ""))
    if step.disposition:
        parts.append(f"disposition {step.disposition}")
    if step.needs_translation:
        parts.append("needs translation")
    details = ", ".join(parts)
    if step.reason:
        details += f": {step.reason}"
    if step.decision is not None:
        decision = step.decision
        filtered = ", ".join(f"{reason} {count}" for reason, count in sorted(decision.filtered_out.items()))
        details += (
            f": {decision.summary or 'no summary'} (step {decision.relaxation_step or '-'}, "
            f"{decision.candidates_considered} candidates"
            + (f", filtered out {filtered}" if filtered else "")
            + f", score {decision.score:.2f})"
        )
    return details


def _offer_line(offer: OfferOutcome) -> str:
    after = f" after {duration(offer.answer_s)}" if offer.answer_s is not None else ""
    reason = f": {offer.reason}" if offer.reason and offer.outcome != "timed_out" else ""
    return f"    {offer.offer_id}  agent {offer.agent_id}  {offer.outcome}{after}{reason}"


def _trace_lines(contact: ContactJourney) -> list[str]:
    services = sorted({span.service for span in contact.spans})
    lines = [f"  trace {', '.join(contact.trace_ids)}: {_count(len(contact.spans), 'span')} ({', '.join(services)})"]
    origin = contact.spans[0].start
    depth = _depths(contact.spans)
    for span in contact.spans:
        indent = "  " * depth[span.span_id]
        lines.append(
            f"    {'+' + duration(span.start - origin):>9}  {indent}{span.service}: {span.name} "
            f"({duration(span.duration_s)}{', ' + span.status if span.status == 'ERROR' else ''})"
        )
    return lines


def _depths(spans: list[SpanSummary]) -> dict[str, int]:
    parents = {span.span_id: span.parent_span_id for span in spans}
    depths: dict[str, int] = {}
    for span_id in parents:
        depth, parent, hops = 0, parents[span_id], 0
        while parent in parents and hops < len(parents):
            depth, parent, hops = depth + 1, parents[parent], hops + 1
        depths[span_id] = depth
    return depths


def _with_iso_instants(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _with_iso_instants(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_iso_instants(item) for item in value]
    if key in _INSTANTS and isinstance(value, int | float):
        return instant(value)
    return value
