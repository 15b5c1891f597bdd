"""The Meta webhook envelope (`object`, `entry[]`), dispatched to Messenger, Instagram or WhatsApp."""

from __future__ import annotations

from pydantic import Field

from services.social_gateway.domain import meta_messaging, whatsapp
from services.social_gateway.domain.messages import Normalized, Platform, SkippedItem, SkipReason
from services.social_gateway.domain.payloads import PlatformModel, parse

_MESSAGING_OBJECTS = {"page": Platform.MESSENGER, "instagram": Platform.INSTAGRAM}


class Envelope(PlatformModel):
    object: str = Field(min_length=1)


class MessagingNotification(PlatformModel):
    entry: list[meta_messaging.MessagingEntry]


class WhatsAppNotification(PlatformModel):
    entry: list[whatsapp.ChangesEntry]


def normalize(raw: bytes) -> Normalized:
    kind = parse(Envelope, raw).object
    if kind in _MESSAGING_OBJECTS:
        return meta_messaging.normalize_entries(_MESSAGING_OBJECTS[kind], parse(MessagingNotification, raw).entry)
    if kind == "whatsapp_business_account":
        return whatsapp.normalize_entries(parse(WhatsAppNotification, raw).entry)
    # Other subscriptions (feed, permissions, ...) are signed and valid, just not contacts.
    return Normalized((), (SkippedItem(Platform.MESSENGER, SkipReason.UNSUPPORTED),))
