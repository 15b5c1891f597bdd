"""A contact's journey as a timeline: each step with its durations, each offer's outcome, the SLA, the reasons.

Pure: routing events (the contract messages) and parsed spans in, plain dataclasses out; `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from google.protobuf.timestamp_pb2 import Timestamp

from contactrouting.v1 import contact_pb2, routing_pb2
from services.journey.domain.model import ContactJourney, Decision, Journey, OfferOutcome, Sla, Step
from services.journey.domain.traces import SpanSummary, contacts_named_by_spans, spans_by_contact

RET = routing_pb2.RoutingEventType
_OFFER_OUTCOMES = {
    RET.ROUTING_EVENT_TYPE_ACCEPTED: "accepted",
    RET.ROUTING_EVENT_TYPE_REJECTED: "rejected",
    RET.ROUTING_EVENT_TYPE_OFFER_TIMED_OUT: "timed_out",
    RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED: "rescinded",
}
# The contact's state after each kind of event; other kinds (escalated, a gateway's reply sent or delivery failed,
# survey sent) leave the state as it was: a survey's failed delivery after completion does not reopen the contact.
_STATE_AFTER = {
    RET.ROUTING_EVENT_TYPE_QUEUED: "waiting",
    RET.ROUTING_EVENT_TYPE_REQUEUED: "waiting",
    RET.ROUTING_EVENT_TYPE_REJECTED: "waiting",
    RET.ROUTING_EVENT_TYPE_OFFER_TIMED_OUT: "waiting",
    RET.ROUTING_EVENT_TYPE_OFFER_RESCINDED: "waiting",
    RET.ROUTING_EVENT_TYPE_OFFERED: "offered",
    RET.ROUTING_EVENT_TYPE_ACCEPTED: "assigned",
    RET.ROUTING_EVENT_TYPE_ASSIGNED: "assigned",
    RET.ROUTING_EVENT_TYPE_COMPLETED: "completed",
    RET.ROUTING_EVENT_TYPE_ABANDONED: "abandoned",
}


def select_events(events: Iterable[routing_pb2.RoutingEvent], query: str) -> list[routing_pb2.RoutingEvent]:
    """The events of every contact the query names by contact, conversation or customer id, without duplicates.

    Streams: a contact's events share a partition (keyed by contact id), so its first event, which carries the
    conversation and customer ids, is seen before the rest.
    """
    contacts: set[str] = set()
    seen: set[str] = set()
    selected: list[routing_pb2.RoutingEvent] = []
    for event in events:
        if event.contact_id not in contacts and query in _ids(event):
            contacts.add(event.contact_id)
        if event.contact_id in contacts and event.event_id not in seen:
            seen.add(event.event_id)
            selected.append(event)
    return selected


def build_journey(
    query: str, events: Iterable[routing_pb2.RoutingEvent], spans: Sequence[SpanSummary], now: float
) -> Journey:
    """One timeline per contact the query names, in order of receipt."""
    by_contact: dict[str, list[routing_pb2.RoutingEvent]] = {}
    for event in select_events(events, query):
        by_contact.setdefault(event.contact_id, []).append(event)
    for contact_id in sorted(contacts_named_by_spans(spans, query) - by_contact.keys()):
        by_contact[contact_id] = []
    traces = spans_by_contact(spans, by_contact.keys())
    contacts = [_contact_journey(cid, found, traces.get(cid, []), now) for cid, found in by_contact.items()]
    contacts.sort(key=lambda contact: (contact.received_at or 0.0, contact.contact_id))
    return Journey(query, contacts)


def _contact_journey(
    contact_id: str, events: list[routing_pb2.RoutingEvent], spans: list[SpanSummary], now: float
) -> ContactJourney:
    events = sorted(events, key=lambda event: _seconds(event.occurred_at) or 0.0)
    received_at = _received_at(events, spans)
    steps = list(_steps(events, received_at))
    offers = _offers(events, received_at)
    answered_at = _first_at(events, RET.ROUTING_EVENT_TYPE_ACCEPTED) or _first_at(
        events, RET.ROUTING_EVENT_TYPE_ASSIGNED
    )
    first_offer_at = _first_at(events, RET.ROUTING_EVENT_TYPE_OFFERED)
    completed_at = _first_at(events, RET.ROUTING_EVENT_TYPE_COMPLETED)
    state = "received"
    for event in events:
        state = _STATE_AFTER.get(event.type, state)
    return ContactJourney(
        contact_id=contact_id,
        conversation_id=next((e.conversation_id for e in events if e.conversation_id), "")
        or next((s.conversation_id for s in spans if s.conversation_id), ""),
        channel=_channel(next((e.channel for e in events if e.channel), 0)),
        language=next((e.language for e in events if e.language), ""),
        queue=next((e.queue for e in reversed(events) if e.queue), ""),
        # The router's events carry queue and priority; a gateway's (reply sent, delivery failed) carry neither.
        priority=next((e.priority for e in reversed(events) if e.queue), 0),
        state=state,
        received_at=received_at,
        steps=steps,
        offers=offers,
        sla=_sla(events, received_at, answered_at, now),
        time_to_first_offer_s=_between(received_at, first_offer_at),
        time_to_accept_s=_between(received_at, answered_at),
        handle_time_s=_between(answered_at, completed_at),
        trace_ids=sorted({span.trace_id for span in spans}),
        spans=spans,
    )


def _steps(events: list[routing_pb2.RoutingEvent], received_at: float | None) -> Iterator[Step]:
    previous = received_at
    if received_at is not None:
        yield Step("received", received_at, None, 0.0)
    for event in events:
        at = _seconds(event.occurred_at) or previous or 0.0
        offered = event.type == RET.ROUTING_EVENT_TYPE_OFFERED
        yield Step(
            kind=_kind(event.type),
            at=at,
            since_previous_s=_between(previous, at),
            since_received_s=_between(received_at, at),
            agent_id=event.agent_id,
            offer_id=event.offer_id,
            attempt=event.attempt,
            queue=event.queue,
            priority=event.priority,
            reason=event.reason,
            disposition=event.disposition,
            # Every event carries the router's latest decision; it explains the offer it was made for.
            decision=_decision(event.decision) if offered and event.HasField("decision") else None,
            needs_translation=event.needs_translation,
        )
        previous = at


def _offers(events: list[routing_pb2.RoutingEvent], received_at: float | None) -> list[OfferOutcome]:
    offers: dict[str, OfferOutcome] = {}
    for event in events:
        at = _seconds(event.occurred_at)
        if event.type == RET.ROUTING_EVENT_TYPE_OFFERED and event.offer_id not in offers:
            offers[event.offer_id] = OfferOutcome(
                offer_id=event.offer_id,
                agent_id=event.agent_id,
                attempt=event.attempt,
                offered_at=at or received_at or 0.0,
                outcome="pending",
                answered_at=None,
                answer_s=None,
                reason="",
                decision=_decision(event.decision) if event.HasField("decision") else None,
            )
        elif event.type in _OFFER_OUTCOMES and event.offer_id in offers:
            offer = offers[event.offer_id]
            if offer.outcome == "pending":
                offers[event.offer_id] = replace(
                    offer,
                    outcome=_OFFER_OUTCOMES[event.type],
                    answered_at=at,
                    answer_s=_between(offer.offered_at, at),
                    reason=event.reason,
                )
    return list(offers.values())


def _sla(
    events: list[routing_pb2.RoutingEvent], received_at: float | None, answered_at: float | None, now: float
) -> Sla | None:
    # The promise made when the contact was queued; later events may carry a tightened deadline.
    deadline = next((d for d in (_seconds(e.sla_deadline) for e in events) if d), None)
    if deadline is None:
        return None
    if answered_at is not None:
        status = "met" if answered_at <= deadline else "missed"
    else:
        status = "missed" if now > deadline else "pending"
    return Sla(deadline, _between(received_at, deadline), answered_at, status)


def _received_at(events: list[routing_pb2.RoutingEvent], spans: list[SpanSummary]) -> float | None:
    for event in events:
        if event.HasField("contact") and (received := _seconds(event.contact.received_at)):
            return received
    if spans:
        return spans[0].start
    return _seconds(events[0].occurred_at) if events else None


def _decision(record: routing_pb2.DecisionRecord) -> Decision:
    return Decision(
        summary=record.summary,
        relaxation_step=record.relaxation_step,
        candidates_considered=record.candidates_considered,
        filtered_out={item.reason: item.count for item in record.filtered_out},
        chosen_agent_id=record.chosen_agent_id,
        score=record.score,
    )


def _ids(event: routing_pb2.RoutingEvent) -> tuple[str, ...]:
    ids = (event.contact_id, event.conversation_id, event.customer_id, event.contact.customer.customer_id)
    return tuple(value for value in ids if value)


def _first_at(events: list[routing_pb2.RoutingEvent], kind: int) -> float | None:
    return next((_seconds(event.occurred_at) for event in events if event.type == kind), None)


def _kind(value: int) -> str:
    try:
        return RET.Name(value).removeprefix("ROUTING_EVENT_TYPE_").lower()  # type: ignore[arg-type]
    except ValueError:
        return f"unknown_{value}"


def _channel(value: int) -> str:
    if not value:
        return ""
    try:
        return contact_pb2.Channel.Name(value).removeprefix("CHANNEL_").lower()  # type: ignore[arg-type]
    except ValueError:
        return f"channel_{value}"


def _seconds(stamp: Timestamp) -> float | None:
    return stamp.seconds + stamp.nanos / 1e9 if (stamp.seconds or stamp.nanos) else None


def _between(start: float | None, end: float | None) -> float | None:
    return round(end - start, 6) if start is not None and end is not None else None
