"""An OutboundMessage as the platform's send-API request: Graph API /messages, Telegram sendMessage, X DMs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.messages import Platform

PLATFORMS = {
    contact_pb2.CHANNEL_MESSENGER: Platform.MESSENGER,
    contact_pb2.CHANNEL_INSTAGRAM: Platform.INSTAGRAM,
    contact_pb2.CHANNEL_WHATSAPP: Platform.WHATSAPP,
    contact_pb2.CHANNEL_TELEGRAM: Platform.TELEGRAM,
    contact_pb2.CHANNEL_X: Platform.X,
}
# WhatsApp reply buttons: at most three, titles of at most 20 characters. More options go in a list message: at
# most ten rows, titles of at most 24 characters, opened by a button of at most 20. Beyond that, only the text
# (which for surveys is a complete numbered prompt) goes out.
_WHATSAPP_MAX_BUTTONS = 3
_WHATSAPP_MAX_TITLE = 20
_WHATSAPP_MAX_ROWS = 10
_WHATSAPP_MAX_ROW_TITLE = 24
_WHATSAPP_LIST_BUTTON = {"en": "Choose", "hr": "Odaberite", "sk": "Vyberte", "de": "Auswählen"}
# Messenger and Instagram quick replies: at most 13, titles of at most 20 characters.
_META_MAX_QUICK_REPLIES = 13


@dataclass(frozen=True, slots=True)
class ReplyEndpoints:
    """Base URLs and tokens per receiving page, bot, number or account (from config)."""

    telegram_base_url: str
    graph_base_url: str
    x_base_url: str
    telegram_tokens: Mapping[str, str] = field(default_factory=dict)
    meta_tokens: Mapping[str, str] = field(default_factory=dict)
    x_tokens: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlatformRequest:
    platform: Platform
    url: str
    body: dict[str, Any]
    # Sent as "Authorization: Bearer"; empty for Telegram, whose token is part of the URL.
    bearer_token: str = field(repr=False)


class NotDeliverable(ValueError):
    """The message cannot be sent at all (no credentials, no recipient): a permanent failure."""


def is_social(channel: int) -> bool:
    return channel in PLATFORMS


def reply_request(message: contact_pb2.OutboundMessage, endpoints: ReplyEndpoints) -> PlatformRequest:
    platform = PLATFORMS.get(message.channel)
    if platform is None:
        raise NotDeliverable(f"channel {message.channel} is not a social channel")
    source = message.in_reply_to.page_id
    recipient = message.customer.handle or message.in_reply_to.thread_id
    if not source or not recipient:
        raise NotDeliverable("no source page/bot/account or no recipient")
    if platform is Platform.TELEGRAM:
        return _telegram(message, endpoints, source)
    if platform is Platform.X:
        return _x(message, endpoints, source, recipient)
    token = _token(endpoints.meta_tokens, source, platform)
    url = f"{endpoints.graph_base_url.rstrip('/')}/{source}/messages"
    if platform is Platform.WHATSAPP:
        return PlatformRequest(platform, url, _whatsapp_body(message, recipient), token)
    return PlatformRequest(platform, url, _messenger_body(message, recipient), token)


def _telegram(message: contact_pb2.OutboundMessage, endpoints: ReplyEndpoints, bot_id: str) -> PlatformRequest:
    token = _token(endpoints.telegram_tokens, bot_id, Platform.TELEGRAM)
    # Replies go to the chat the message came from (a group chat differs from the user).
    body: dict[str, Any] = {
        "chat_id": message.in_reply_to.thread_id or message.customer.handle,
        "text": message.body_text,
    }
    if message.in_reply_to.platform_message_id.isdigit():
        body["reply_parameters"] = {
            "message_id": int(message.in_reply_to.platform_message_id),
            "allow_sending_without_reply": True,
        }
    if message.quick_replies:
        body["reply_markup"] = {
            "keyboard": [[{"text": option}] for option in message.quick_replies],
            "one_time_keyboard": True,
            "resize_keyboard": True,
        }
    url = f"{endpoints.telegram_base_url.rstrip('/')}/bot{token}/sendMessage"
    return PlatformRequest(Platform.TELEGRAM, url, body, "")


def _x(
    message: contact_pb2.OutboundMessage, endpoints: ReplyEndpoints, account: str, recipient: str
) -> PlatformRequest:
    token = _token(endpoints.x_tokens, account, Platform.X)
    url = f"{endpoints.x_base_url.rstrip('/')}/2/dm_conversations/with/{recipient}/messages"
    return PlatformRequest(Platform.X, url, {"text": message.body_text}, token)


def _messenger_body(message: contact_pb2.OutboundMessage, recipient: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": message.body_text}
    if message.quick_replies:
        content["quick_replies"] = [
            {"content_type": "text", "title": option[:20], "payload": option}
            for option in message.quick_replies[:_META_MAX_QUICK_REPLIES]
        ]
    # RESPONSE: an answer inside the 24-hour window opened by the customer's message.
    return {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": content}


def _whatsapp_body(message: contact_pb2.OutboundMessage, recipient: str) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient}
    if message.in_reply_to.platform_message_id:
        body["context"] = {"message_id": message.in_reply_to.platform_message_id}
    options = list(message.quick_replies)
    if options and len(options) <= _WHATSAPP_MAX_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": f"option-{index}", "title": option[:_WHATSAPP_MAX_TITLE]}}
            for index, option in enumerate(options)
        ]
        body["type"] = "interactive"
        body["interactive"] = {"type": "button", "body": {"text": message.body_text}, "action": {"buttons": buttons}}
    elif options and len(options) <= _WHATSAPP_MAX_ROWS:
        rows = [
            {"id": f"option-{index}", "title": option[:_WHATSAPP_MAX_ROW_TITLE]} for index, option in enumerate(options)
        ]
        label = _WHATSAPP_LIST_BUTTON.get(message.language.partition("-")[0], _WHATSAPP_LIST_BUTTON["en"])
        body["type"] = "interactive"
        body["interactive"] = {
            "type": "list",
            "body": {"text": message.body_text},
            "action": {"button": label, "sections": [{"rows": rows}]},
        }
    else:
        # No options, or more than a list holds (NPS 0-10): the text alone, which then must name the choices.
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": message.body_text}
    return body


def _token(tokens: Mapping[str, str], source: str, platform: Platform) -> str:
    token = tokens.get(source, "")
    if not token:
        raise NotDeliverable(f"no {platform.value} token configured for this source")
    return token
