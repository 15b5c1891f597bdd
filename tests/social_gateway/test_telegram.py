"""The Telegram normalizer: updates to InboundMessages, without a broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from services.social_gateway.domain import telegram
from services.social_gateway.domain.messages import MalformedPayload, MediaRef, Platform, SkipReason

from .fuzzing import assert_events_or_clear_rejection, fuzz_settings, mutated, raw_bodies

UPDATE: dict[str, Any] = {
    "update_id": 10000,
    "message": {
        "message_id": 1365,
        "date": 1441645532,
        "chat": {"id": 1111111, "type": "private", "first_name": "Ivan"},
        "from": {"id": 1111111, "is_bot": False, "first_name": "Ivan", "last_name": "Horvat", "language_code": "hr-HR"},
        "text": "Dobar dan",
    },
}


def normalize(payload: dict[str, Any]) -> telegram.Normalized:
    return telegram.normalize(json.dumps(payload).encode(), "demo-bot")


def test_a_text_message() -> None:
    (message,) = normalize(UPDATE).messages
    assert message.platform is Platform.TELEGRAM
    assert (message.source_id, message.sender_id, message.thread_id, message.message_id) == (
        "demo-bot",
        "1111111",
        "1111111",
        "1365",
    )
    assert message.sender_name == "Ivan Horvat"
    assert message.text == "Dobar dan"
    assert message.language_hint == "hr-HR"
    assert message.sent_at_s == 1441645532.0
    assert not message.is_edit
    assert message.dedupe_key == "telegram:demo-bot:1111111:1365"


def test_an_edit_is_its_own_version_of_the_message() -> None:
    edited = {"update_id": 10001, "edited_message": {**UPDATE["message"], "edit_date": 1441645600, "text": "Bok"}}
    (message,) = normalize(edited).messages
    assert message.is_edit
    assert message.text == "Bok"
    assert message.sent_at_s == 1441645600.0
    assert message.dedupe_key == "telegram:demo-bot:1111111:1365:edit-1441645600"


def test_the_largest_photo_stands_for_the_photo() -> None:
    update = {
        "update_id": 1,
        "message": {
            **{k: v for k, v in UPDATE["message"].items() if k != "text"},
            "photo": [
                {"file_id": "b", "file_unique_id": "b", "width": 800, "height": 600},
                {"file_id": "a", "file_unique_id": "a", "width": 90, "height": 60, "file_size": 1},
            ],
        },
    }
    (message,) = normalize(update).messages
    assert message.text == ""
    assert message.attachments == (MediaRef("b", "image/jpeg"),)


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ({"update_id": 5, "callback_query": {"id": "1"}}, SkipReason.UNSUPPORTED),
        ({"update_id": 5, "message": {**UPDATE["message"], "from": {"id": 9, "is_bot": True}}}, SkipReason.BOT_SENDER),
        (
            {"update_id": 5, "message": {k: v for k, v in UPDATE["message"].items() if k != "from"}},
            SkipReason.BOT_SENDER,
        ),
    ],
    ids=["callback", "bot", "channel-post"],
)
def test_updates_that_are_not_customer_messages_are_skipped(update: dict[str, Any], reason: SkipReason) -> None:
    result = normalize(update)
    assert result.messages == ()
    assert [item.reason for item in result.skipped] == [reason]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"update_id": "x"}', b"\xff\xfe"])
def test_malformed_bodies_are_rejected_with_a_reason(raw: bytes) -> None:
    with pytest.raises(MalformedPayload) as rejection:
        telegram.normalize(raw, "demo-bot")
    assert rejection.value.reason


@fuzz_settings
@given(raw_bodies)
def test_fuzz_arbitrary_bodies(raw: bytes) -> None:
    assert_events_or_clear_rejection(lambda body: telegram.normalize(body, "demo-bot"), raw)


@fuzz_settings
@given(mutated(UPDATE))
def test_fuzz_mutated_updates(raw: bytes) -> None:
    assert_events_or_clear_rejection(lambda body: telegram.normalize(body, "demo-bot"), raw)
