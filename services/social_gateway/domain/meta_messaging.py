"""Messenger and Instagram messaging events (`entry[].messaging[]`), which share one documented format.

https://developers.facebook.com/docs/messenger-platform/webhooks and
https://developers.facebook.com/docs/instagram-platform/webhooks
"""

from __future__ import annotations

from pydantic import Field

from services.social_gateway.domain.messages import (
    InboundMessage,
    MediaRef,
    Normalized,
    Platform,
    SkippedItem,
    SkipReason,
)
from services.social_gateway.domain.payloads import PlatformId, PlatformModel


class Party(PlatformModel):
    id: PlatformId


class AttachmentPayload(PlatformModel):
    url: str | None = None
    title: str | None = None
    sticker_id: int | None = None


class MessageAttachment(PlatformModel):
    type: str
    payload: AttachmentPayload | None = None


class QuickReply(PlatformModel):
    payload: str


class Message(PlatformModel):
    mid: PlatformId
    text: str | None = None
    is_echo: bool = False
    quick_reply: QuickReply | None = None
    attachments: list[MessageAttachment] = []


class Postback(PlatformModel):
    title: str | None = None
    payload: str | None = None
    mid: PlatformId | None = None


class MessagingEvent(PlatformModel):
    sender: Party
    recipient: Party
    timestamp: int = 0
    message: Message | None = None
    postback: Postback | None = None
    delivery: dict[str, object] | None = None
    read: dict[str, object] | None = None


class MessagingEntry(PlatformModel):
    id: PlatformId
    time: int = 0
    messaging: list[MessagingEvent] = Field(default_factory=list)


_MIME_BY_TYPE = {"image": "image/*", "video": "video/*", "audio": "audio/*", "file": "application/octet-stream"}


def normalize_entries(platform: Platform, entries: list[MessagingEntry]) -> Normalized:
    messages: list[InboundMessage] = []
    skipped: list[SkippedItem] = []
    for entry in entries:
        for event in entry.messaging:
            outcome = _normalize_event(platform, entry.id, event)
            if isinstance(outcome, InboundMessage):
                messages.append(outcome)
            else:
                skipped.append(SkippedItem(platform, outcome))
    return Normalized(tuple(messages), tuple(skipped))


def _normalize_event(platform: Platform, page_id: str, event: MessagingEvent) -> InboundMessage | SkipReason:
    if event.delivery is not None:
        return SkipReason.DELIVERY
    if event.read is not None:
        return SkipReason.READ
    # Our own replies come back as echoes, with the page as the sender.
    if (event.message is not None and event.message.is_echo) or event.sender.id == page_id:
        return SkipReason.ECHO
    if event.message is not None:
        message = event.message
        payload = message.quick_reply.payload if message.quick_reply is not None else ""
        attachments = _attachments(message.attachments)
        return _inbound(platform, page_id, event, message.mid, message.text or "", attachments, payload)
    if event.postback is not None:
        postback = event.postback
        # Older postbacks carry no mid; sender and timestamp identify the tap.
        message_id = postback.mid or f"postback-{event.timestamp}"
        text = postback.title or postback.payload or ""
        return _inbound(platform, page_id, event, message_id, text, (), postback.payload or "")
    return SkipReason.UNSUPPORTED


def _inbound(
    platform: Platform,
    page_id: str,
    event: MessagingEvent,
    message_id: str,
    text: str,
    attachments: tuple[MediaRef, ...],
    reply_payload: str = "",
) -> InboundMessage:
    return InboundMessage(
        platform=platform,
        source_id=page_id,
        sender_id=event.sender.id,
        # Messenger and Instagram send no profile name in the webhook; a profile lookup would be a separate call.
        sender_name="",
        thread_id=event.sender.id,
        message_id=message_id,
        sent_at_s=event.timestamp / 1000.0,
        text=text,
        attachments=attachments,
        reply_payload=reply_payload,
    )


def _attachments(attachments: list[MessageAttachment]) -> tuple[MediaRef, ...]:
    refs: list[MediaRef] = []
    for attachment in attachments:
        payload = attachment.payload
        if payload is None or not payload.url:
            continue
        refs.append(
            MediaRef(payload.url, _MIME_BY_TYPE.get(attachment.type, attachment.type), filename=payload.title or "")
        )
    return tuple(refs)
