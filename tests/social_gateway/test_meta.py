"""The Meta normalizers (Messenger, Instagram, WhatsApp) behind the one envelope, without a broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from services.social_gateway.domain import meta
from services.social_gateway.domain.messages import MalformedPayload, MediaRef, Platform, SkipReason

from .fuzzing import assert_events_or_clear_rejection, fuzz_settings, mutated, raw_bodies

MESSENGER: dict[str, Any] = {
    "object": "page",
    "entry": [
        {
            "id": "PAGE",
            "time": 1,
            "messaging": [
                {
                    "sender": {"id": "PSID"},
                    "recipient": {"id": "PAGE"},
                    "timestamp": 1500,
                    "message": {"mid": "m1", "text": "hi"},
                },
                {
                    "sender": {"id": "PSID"},
                    "recipient": {"id": "PAGE"},
                    "timestamp": 1600,
                    "postback": {"title": "Start", "payload": "START"},
                },
                {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "timestamp": 1, "read": {"watermark": 1}},
            ],
        },
        {
            "id": "PAGE",
            "messaging": [
                {"sender": {"id": "PAGE"}, "recipient": {"id": "PSID"}, "message": {"mid": "m2", "text": "reply"}},
                {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "delivery": {"mids": ["m2"], "watermark": 1}},
                {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "reaction": {"mid": "m2", "action": "react"}},
            ],
        },
    ],
}

WHATSAPP: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "WABA",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "1555", "phone_number_id": "PHONE"},
                        "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "385911"}],
                        "messages": [
                            {
                                "from": "385911",
                                "id": "wamid.1",
                                "timestamp": "1700000000",
                                "type": "document",
                                "document": {
                                    "id": "media-1",
                                    "filename": "invoice.pdf",
                                    "mime_type": "application/pdf",
                                    "sha256": "abc",
                                    "caption": "see attached",
                                },
                            },
                            {
                                "from": "385911",
                                "id": "wamid.2",
                                "timestamp": "1700000001",
                                "type": "location",
                                "location": {"latitude": 45.8, "longitude": 15.97, "name": "Zagreb"},
                            },
                            {"from": "385911", "id": "wamid.3", "timestamp": "1", "type": "reaction", "reaction": {}},
                            {
                                "from": "385911",
                                "id": "wamid.4",
                                "timestamp": "1",
                                "type": "button",
                                "button": {"text": "Yes", "payload": "YES"},
                            },
                        ],
                        "statuses": [{"id": "wamid.out", "status": "failed", "timestamp": "1", "recipient_id": "1"}],
                    },
                },
                {"field": "account_update", "value": None},
            ],
        }
    ],
}


def normalize(payload: dict[str, Any]) -> meta.Normalized:
    return meta.normalize(json.dumps(payload).encode())


def test_messenger_messages_and_postbacks_are_routed_echoes_and_receipts_are_not() -> None:
    result = normalize(MESSENGER)
    assert [(m.platform, m.message_id, m.text, m.thread_id, m.source_id) for m in result.messages] == [
        (Platform.MESSENGER, "m1", "hi", "PSID", "PAGE"),
        (Platform.MESSENGER, "postback-1600", "Start", "PSID", "PAGE"),
    ]
    assert result.messages[0].sent_at_s == 1.5
    assert sorted(item.reason.value for item in result.skipped) == ["delivery", "echo", "read", "unsupported"]


def test_instagram_uses_the_messenger_format() -> None:
    result = normalize({**MESSENGER, "object": "instagram"})
    assert {message.platform for message in result.messages} == {Platform.INSTAGRAM}


def test_whatsapp_media_location_and_button_replies_with_the_profile_name() -> None:
    result = normalize(WHATSAPP)
    document, location, button = result.messages
    assert (document.sender_name, document.text, document.source_id, document.thread_id) == (
        "Kerry",
        "see attached",
        "PHONE",
        "385911",
    )
    assert document.attachments == (MediaRef("media-1", "application/pdf", filename="invoice.pdf", sha256="abc"),)
    assert location.text == "Zagreb"
    assert location.attachments == (MediaRef("geo:45.8,15.97", "application/geo+json"),)
    assert (button.text, button.reply_payload) == ("Yes", "YES")
    assert document.reply_payload == ""
    assert sorted(item.reason.value for item in result.skipped) == ["status", "unsupported", "unsupported"]


def test_a_tapped_messenger_quick_reply_and_a_postback_carry_their_payloads() -> None:
    event = {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "timestamp": 1700}
    payload = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "messaging": [
                    {**event, "message": {"mid": "m9", "text": "Excellent", "quick_reply": {"payload": "5"}}},
                    {**event, "postback": {"title": "Rate 4", "payload": "4"}},
                ],
            }
        ],
    }
    quick_reply, postback = normalize(payload).messages
    assert (quick_reply.text, quick_reply.reply_payload) == ("Excellent", "5")
    assert (postback.text, postback.reply_payload) == ("Rate 4", "4")
    assert normalize(MESSENGER).messages[0].reply_payload == ""


def test_other_subscriptions_are_recorded_not_rejected() -> None:
    result = normalize({"object": "user", "entry": [{"id": "1", "changes": [{"field": "feed"}]}]})
    assert result.messages == ()
    assert [item.reason for item in result.skipped] == [SkipReason.UNSUPPORTED]


@pytest.mark.parametrize(
    "payload",
    [{}, {"object": ""}, {"object": "page"}, {"object": "page", "entry": [{"messaging": []}]}, {"object": 3}],
    ids=["empty", "blank-object", "no-entry", "entry-without-id", "object-not-a-string"],
)
def test_malformed_envelopes_are_rejected_with_a_reason(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedPayload) as rejection:
        normalize(payload)
    assert rejection.value.reason


@fuzz_settings
@given(raw_bodies)
def test_fuzz_arbitrary_bodies(raw: bytes) -> None:
    assert_events_or_clear_rejection(meta.normalize, raw)


@fuzz_settings
@given(mutated(MESSENGER))
def test_fuzz_mutated_messenger_batches(raw: bytes) -> None:
    assert_events_or_clear_rejection(meta.normalize, raw)


@fuzz_settings
@given(mutated(WHATSAPP))
def test_fuzz_mutated_whatsapp_notifications(raw: bytes) -> None:
    assert_events_or_clear_rejection(meta.normalize, raw)
