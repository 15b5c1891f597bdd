"""The X Account Activity normalizer, without a broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from services.social_gateway.domain import x
from services.social_gateway.domain.messages import MalformedPayload, Platform, SkipReason

from .fuzzing import assert_events_or_clear_rejection, fuzz_settings, mutated, raw_bodies

EVENT: dict[str, Any] = {
    "for_user_id": "100",
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "9001",
            "created_timestamp": "1516403560557",
            "message_create": {
                "target": {"recipient_id": "100"},
                "sender_id": "200",
                "message_data": {"text": "Hello World!"},
            },
        },
        {
            "type": "message_create",
            "id": "9002",
            "created_timestamp": "1516403560600",
            "message_create": {"target": {"recipient_id": "200"}, "sender_id": "100", "message_data": {"text": "Hi"}},
        },
    ],
    "users": {"200": {"id": "200", "name": "Jordan"}},
    "tweet_create_events": [{"id": 1}],
}


def test_a_dm_to_us_is_routed_and_our_own_dm_is_not() -> None:
    result = x.normalize(json.dumps(EVENT).encode())
    (message,) = result.messages
    assert (message.platform, message.source_id, message.sender_id, message.thread_id, message.message_id) == (
        Platform.X,
        "100",
        "200",
        "200",
        "9001",
    )
    assert message.sender_name == "Jordan"
    assert message.text == "Hello World!"
    assert message.sent_at_s == 1516403560.557
    assert sorted(item.reason.value for item in result.skipped) == [
        SkipReason.OWN_MESSAGE.value,
        SkipReason.UNSUPPORTED.value,
    ]


@pytest.mark.parametrize("payload", [{}, {"for_user_id": ""}, {"for_user_id": "1", "direct_message_events": [{}]}])
def test_malformed_events_are_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedPayload):
        x.normalize(json.dumps(payload).encode())


def test_a_rejection_names_where_but_not_whose() -> None:
    """The reason goes to logs and dead letters: the path to the problem, without the user id X keys users by."""
    payload = {**EVENT, "users": {"200777": {"name": "Jordan"}}}  # the user lacks its id

    with pytest.raises(MalformedPayload) as rejected:
        x.normalize(json.dumps(payload).encode())

    assert str(rejected.value) == "missing at users.*.id: Field required"
    assert "200777" not in str(rejected.value)


@fuzz_settings
@given(raw_bodies)
def test_fuzz_arbitrary_bodies(raw: bytes) -> None:
    assert_events_or_clear_rejection(x.normalize, raw)


@fuzz_settings
@given(mutated(EVENT))
def test_fuzz_mutated_events(raw: bytes) -> None:
    assert_events_or_clear_rejection(x.normalize, raw)
