"""What an agent reads about an offer: channel, language, subject, waiting time, deadline and the reason."""

from __future__ import annotations

from contactrouting.v1 import agent_desk_pb2, contact_pb2, routing_pb2
from services.router.agent_client.desk_view import offer_lines, waited


def test_an_offer_reads_with_everything_an_agent_decides_on() -> None:
    offer = agent_desk_pb2.Offer(
        offer_id="c1#1~ab",
        contact=contact_pb2.ContactEvent(
            channel=contact_pb2.CHANNEL_WHATSAPP, language="de", subject="Rechnung", body_text="Hallo,\n\nbitte..."
        ),
        decision=routing_pb2.DecisionRecord(summary="longest idle of 3 eligible", relaxation_step="overflow"),
        waiting_ms=125_000,
        queue="billing",
        priority=5,
        needs_translation=True,
    )
    offer.expires_at.FromSeconds(1_000)
    text = "\n".join(offer_lines(offer, now=985.2))
    for expected in (
        "whatsapp",
        "lang=de",
        "queue=billing",
        "priority=5",
        "waiting 2m05s",
        "answer within 15s",
        "[needs translation]",
        "subject: Rechnung",
        "message: Hallo, bitte...",
        "why you: longest idle of 3 eligible (step overflow)",
    ):
        assert expected in text


def test_waiting_times_read_naturally() -> None:
    assert [waited(ms) for ms in (900, 59_000, 61_000, 3_725_000)] == ["0s", "59s", "1m01s", "1h02m"]
