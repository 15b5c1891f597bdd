"""Send-API requests per platform, exactly as each platform documents them."""

from __future__ import annotations

from typing import Any

import pytest

from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.messages import Platform
from services.social_gateway.domain.replies import NotDeliverable, PlatformRequest, ReplyEndpoints, reply_request

ENDPOINTS = ReplyEndpoints(
    telegram_base_url="http://tg.local/",
    graph_base_url="http://graph.local/v21.0",
    x_base_url="http://x.local",
    telegram_tokens={"demo-bot": "123:ABC"},
    meta_tokens={"PAGE": "page-token", "PHONE": "wa-token", "IG": ""},
    x_tokens={"ACCOUNT": "x-token"},
)


def outbound(
    channel: Any, source: str, handle: str, thread: str, mid: str = "", **fields: Any
) -> contact_pb2.OutboundMessage:
    return contact_pb2.OutboundMessage(
        message_id="out-1",
        contact_id="c-1",
        channel=channel,
        customer=contact_pb2.Customer(handle=handle),
        body_text="Thanks, we are on it.",
        in_reply_to=contact_pb2.SourceRef(page_id=source, thread_id=thread, platform_message_id=mid),
        **fields,
    )


def test_telegram_send_message_to_the_chat_as_a_reply() -> None:
    request = reply_request(outbound(contact_pb2.CHANNEL_TELEGRAM, "demo-bot", "42", "-100777", "7"), ENDPOINTS)
    assert request == PlatformRequest(
        Platform.TELEGRAM,
        "http://tg.local/bot123:ABC/sendMessage",
        {
            "chat_id": "-100777",
            "text": "Thanks, we are on it.",
            "reply_parameters": {"message_id": 7, "allow_sending_without_reply": True},
        },
        "",
    )


def test_telegram_quick_replies_become_a_one_time_keyboard() -> None:
    message = outbound(contact_pb2.CHANNEL_TELEGRAM, "demo-bot", "42", "42", quick_replies=["Good", "Bad"])
    assert reply_request(message, ENDPOINTS).body["reply_markup"] == {
        "keyboard": [[{"text": "Good"}], [{"text": "Bad"}]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }


def test_messenger_graph_api_messages() -> None:
    message = outbound(contact_pb2.CHANNEL_MESSENGER, "PAGE", "PSID", "PSID", "m_1", quick_replies=["Yes"])
    assert reply_request(message, ENDPOINTS) == PlatformRequest(
        Platform.MESSENGER,
        "http://graph.local/v21.0/PAGE/messages",
        {
            "recipient": {"id": "PSID"},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "Thanks, we are on it.",
                "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "Yes"}],
            },
        },
        "page-token",
    )


def test_whatsapp_cloud_api_text_in_context_of_the_customer_message() -> None:
    message = outbound(contact_pb2.CHANNEL_WHATSAPP, "PHONE", "385911", "385911", "wamid.X")
    assert reply_request(message, ENDPOINTS) == PlatformRequest(
        Platform.WHATSAPP,
        "http://graph.local/v21.0/PHONE/messages",
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "385911",
            "context": {"message_id": "wamid.X"},
            "type": "text",
            "text": {"preview_url": False, "body": "Thanks, we are on it."},
        },
        "wa-token",
    )


def test_up_to_three_whatsapp_quick_replies_become_reply_buttons() -> None:
    options = ["Very satisfied with it all", "OK", "Bad"]
    message = outbound(contact_pb2.CHANNEL_WHATSAPP, "PHONE", "385911", "385911", quick_replies=options)
    body = reply_request(message, ENDPOINTS).body
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "button",
        "body": {"text": "Thanks, we are on it."},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "option-0", "title": "Very satisfied with "}},
                {"type": "reply", "reply": {"id": "option-1", "title": "OK"}},
                {"type": "reply", "reply": {"id": "option-2", "title": "Bad"}},
            ]
        },
    }


def test_a_csat_scale_on_whatsapp_becomes_a_list_with_every_rating() -> None:
    options = ["1", "2", "3", "4", "5"]
    message = outbound(contact_pb2.CHANNEL_WHATSAPP, "PHONE", "385911", "385911", quick_replies=options, language="hr")
    body = reply_request(message, ENDPOINTS).body
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "Thanks, we are on it."},
        "action": {
            "button": "Odaberite",
            "sections": [{"rows": [{"id": f"option-{n - 1}", "title": str(n)} for n in range(1, 6)]}],
        },
    }


def test_an_nps_scale_on_whatsapp_is_more_than_a_list_holds_so_the_numbered_text_goes_alone() -> None:
    options = [str(n) for n in range(11)]
    message = outbound(contact_pb2.CHANNEL_WHATSAPP, "PHONE", "385911", "385911", quick_replies=options)
    body = reply_request(message, ENDPOINTS).body
    assert body["type"] == "text"
    assert body["text"] == {"preview_url": False, "body": "Thanks, we are on it."}
    assert "interactive" not in body


def test_an_nps_scale_fits_a_telegram_keyboard() -> None:
    nps = outbound(contact_pb2.CHANNEL_TELEGRAM, "demo-bot", "42", "42", quick_replies=[str(n) for n in range(11)])
    assert reply_request(nps, ENDPOINTS).body["reply_markup"]["keyboard"] == [[{"text": str(n)}] for n in range(11)]


def test_an_nps_scale_fits_messenger_quick_replies() -> None:
    options = [str(n) for n in range(11)]
    message = outbound(contact_pb2.CHANNEL_MESSENGER, "PAGE", "PSID", "PSID", quick_replies=options)
    replies = reply_request(message, ENDPOINTS).body["message"]["quick_replies"]
    assert replies == [{"content_type": "text", "title": str(n), "payload": str(n)} for n in range(11)]


def test_x_gets_the_numbered_text_prompt_only() -> None:
    message = outbound(contact_pb2.CHANNEL_X, "ACCOUNT", "200", "200", quick_replies=["1", "2", "3", "4", "5"])
    assert reply_request(message, ENDPOINTS).body == {"text": "Thanks, we are on it."}


def test_x_direct_message_endpoint() -> None:
    request = reply_request(outbound(contact_pb2.CHANNEL_X, "ACCOUNT", "200", "200"), ENDPOINTS)
    assert request == PlatformRequest(
        Platform.X, "http://x.local/2/dm_conversations/with/200/messages", {"text": "Thanks, we are on it."}, "x-token"
    )


@pytest.mark.parametrize(
    "message",
    [
        outbound(contact_pb2.CHANNEL_INSTAGRAM, "IG", "IGSID", "IGSID"),
        outbound(contact_pb2.CHANNEL_TELEGRAM, "other-bot", "1", "1"),
        outbound(contact_pb2.CHANNEL_MESSENGER, "", "PSID", "PSID"),
        outbound(contact_pb2.CHANNEL_EMAIL, "PAGE", "a@b.c", "t"),
    ],
    ids=["empty-token", "unknown-bot", "no-source", "email"],
)
def test_undeliverable_messages_are_refused_without_a_call(message: contact_pb2.OutboundMessage) -> None:
    with pytest.raises(NotDeliverable):
        reply_request(message, ENDPOINTS)
