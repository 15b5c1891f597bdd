"""What a normalizer extracts from a platform payload: customer messages to route, and items only to record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Platform(Enum):
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    X = "x"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Attachment metadata; the media stays on the platform and is fetched by reference."""

    media_ref: str
    content_type: str = ""
    filename: str = ""
    size_bytes: int = 0
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message, platform-neutral."""

    platform: Platform
    # The page, bot, phone-number or account id that received the message.
    source_id: str
    sender_id: str
    sender_name: str
    # The platform's thread or chat id; one conversation per (platform, source, thread).
    thread_id: str
    message_id: str
    sent_at_s: float
    text: str
    attachments: tuple[MediaRef, ...] = ()
    language_hint: str = ""
    is_edit: bool = False
    # Distinguishes versions of one platform message (edit date), so each edit is its own event.
    revision: str = ""
    # The payload of a quick reply or button the customer tapped (e.g. a survey rating), next to its visible text.
    reply_payload: str = ""

    @property
    def dedupe_key(self) -> str:
        """Unique per delivered message version: platform retries of it map to the same key."""
        parts = [self.platform.value, self.source_id, self.thread_id, self.message_id]
        if self.revision:
            parts.append(self.revision)
        return ":".join(parts)


class SkipReason(Enum):
    ECHO = "echo"
    DELIVERY = "delivery"
    READ = "read"
    STATUS = "status"
    OWN_MESSAGE = "own_message"
    BOT_SENDER = "bot_sender"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """A webhook item that is not a customer contact (receipts, echoes, statuses): recorded, never routed."""

    platform: Platform
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Normalized:
    messages: tuple[InboundMessage, ...]
    skipped: tuple[SkippedItem, ...] = ()


class MalformedPayload(ValueError):
    """A signed body that is not valid JSON or does not match the platform's model."""

    def __init__(self, reason: str, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        # A short, bounded token (e.g. "json_invalid", "missing") for metrics; `reason` is for humans.
        self.code = code
