"""Desk presence to and from the engine's, and domain events as the messages an agent sees."""

from __future__ import annotations

import pytest

from contactrouting.v1 import agent_desk_pb2
from services.router.adapters.desk_message_mapping import desk_message, presence_enum, presence_from_enum
from services.router.domain import CommandRejected, OfferTimedOut, Presence, PresenceChanged


@pytest.mark.parametrize("presence", list(Presence))
def test_presence_maps_both_ways(presence: Presence) -> None:
    assert presence_from_enum(presence_enum(presence)) is presence


@pytest.mark.parametrize("value", [agent_desk_pb2.PRESENCE_UNSPECIFIED, 4, 2**31 - 1, -1])
def test_unspecified_or_unknown_presence_numbers_map_to_none(value: int) -> None:
    assert presence_from_enum(value) is None


def test_a_timed_out_offer_is_withdrawn_from_the_agents_desk() -> None:
    agent_id, message = desk_message(OfferTimedOut("o1", "c1", "ana", 1.0), None, 2.0) or ("", None)
    assert agent_id == "ana" and message is not None
    assert (message.offer_rescinded.offer_id, message.offer_rescinded.reason) == ("o1", "offer_timeout")


def test_presence_changes_and_refusals_reach_the_agent() -> None:
    changed = desk_message(PresenceChanged("ana", Presence.AWAY, "missed_offer", 1.0), None, 1.0)
    assert changed is not None and changed[1].presence_changed.reason_code == "missed_offer"
    refused = desk_message(CommandRejected("ana", "not_owner", "not yours", 1.0), None, 1.0)
    assert refused is not None and refused[1].error.code == "not_owner"
