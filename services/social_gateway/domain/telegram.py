"""Telegram Bot API updates (https://core.telegram.org/bots/api#update) normalized into InboundMessages."""

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
from services.social_gateway.domain.payloads import PlatformModel, parse


class User(PlatformModel):
    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class Chat(PlatformModel):
    id: int
    type: str


class PhotoSize(PlatformModel):
    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int | None = None


class Document(PlatformModel):
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class Message(PlatformModel):
    message_id: int
    date: int
    chat: Chat
    sender: User | None = Field(default=None, alias="from")
    edit_date: int | None = None
    text: str | None = None
    caption: str | None = None
    photo: list[PhotoSize] | None = None
    document: Document | None = None


class Update(PlatformModel):
    update_id: int
    message: Message | None = None
    edited_message: Message | None = None


def normalize_update(update: Update, bot_id: str) -> Normalized:
    message = update.message or update.edited_message
    if message is None:
        return Normalized((), (SkippedItem(Platform.TELEGRAM, SkipReason.UNSUPPORTED),))
    if message.sender is None or message.sender.is_bot:
        return Normalized((), (SkippedItem(Platform.TELEGRAM, SkipReason.BOT_SENDER),))
    is_edit = update.message is None
    sender = message.sender
    return Normalized(
        (
            InboundMessage(
                platform=Platform.TELEGRAM,
                source_id=bot_id,
                sender_id=str(sender.id),
                sender_name=" ".join(part for part in (sender.first_name, sender.last_name) if part),
                thread_id=str(message.chat.id),
                message_id=str(message.message_id),
                sent_at_s=float(message.edit_date if is_edit and message.edit_date else message.date),
                text=message.text if message.text is not None else (message.caption or ""),
                attachments=_attachments(message),
                language_hint=sender.language_code or "",
                is_edit=is_edit,
                revision=f"edit-{message.edit_date or 0}" if is_edit else "",
            ),
        )
    )


def normalize(raw: bytes, bot_id: str) -> Normalized:
    """Parse and normalize one update; raises MalformedPayload for anything that is not one."""
    return normalize_update(parse(Update, raw), bot_id)


def _attachments(message: Message) -> tuple[MediaRef, ...]:
    attachments: list[MediaRef] = []
    if message.photo:
        # Telegram sends one photo in several sizes; the largest stands for it.
        largest = max(message.photo, key=lambda size: size.width * size.height)
        attachments.append(MediaRef(largest.file_id, "image/jpeg", size_bytes=largest.file_size or 0))
    if message.document is not None:
        document = message.document
        attachments.append(
            MediaRef(
                document.file_id,
                document.mime_type or "application/octet-stream",
                filename=document.file_name or "",
                size_bytes=document.file_size or 0,
            )
        )
    return tuple(attachments)
