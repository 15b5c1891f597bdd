"""WhatsApp Cloud API notifications (`entry[].changes[].value`): messages, contacts and statuses.

https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
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


class Metadata(PlatformModel):
    display_phone_number: str = ""
    phone_number_id: PlatformId


class Profile(PlatformModel):
    name: str = ""


class Contact(PlatformModel):
    wa_id: PlatformId
    profile: Profile = Profile()


class Text(PlatformModel):
    body: str


class Media(PlatformModel):
    id: str
    mime_type: str = ""
    sha256: str = ""
    caption: str | None = None
    filename: str | None = None


class Location(PlatformModel):
    latitude: float
    longitude: float
    name: str | None = None


class Reply(PlatformModel):
    id: str
    title: str


class Interactive(PlatformModel):
    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class Button(PlatformModel):
    text: str
    payload: str | None = None


class Message(PlatformModel):
    sender: PlatformId = Field(alias="from")
    id: PlatformId
    timestamp: str
    type: str
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    interactive: Interactive | None = None
    button: Button | None = None


class Status(PlatformModel):
    id: str
    status: str


class Value(PlatformModel):
    messaging_product: str = "whatsapp"
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[Message] = []
    statuses: list[Status] = []


class Change(PlatformModel):
    field: str
    value: Value | None = None


class ChangesEntry(PlatformModel):
    id: PlatformId
    changes: list[Change] = Field(default_factory=list)


def normalize_entries(entries: list[ChangesEntry]) -> Normalized:
    messages: list[InboundMessage] = []
    skipped: list[SkippedItem] = []
    for entry in entries:
        for change in entry.changes:
            value = change.value
            if change.field != "messages" or value is None:
                skipped.append(SkippedItem(Platform.WHATSAPP, SkipReason.UNSUPPORTED))
                continue
            skipped.extend(SkippedItem(Platform.WHATSAPP, SkipReason.STATUS) for _ in value.statuses)
            names = {contact.wa_id: contact.profile.name for contact in value.contacts}
            for message in value.messages:
                inbound = _inbound(value.metadata.phone_number_id, message, names.get(message.sender, ""))
                if inbound is None:
                    skipped.append(SkippedItem(Platform.WHATSAPP, SkipReason.UNSUPPORTED))
                else:
                    messages.append(inbound)
    return Normalized(tuple(messages), tuple(skipped))


def _inbound(phone_number_id: str, message: Message, name: str) -> InboundMessage | None:
    content = _content(message)
    if content is None:
        return None
    text, attachments = content
    return InboundMessage(
        platform=Platform.WHATSAPP,
        source_id=phone_number_id,
        sender_id=message.sender,
        sender_name=name,
        thread_id=message.sender,
        message_id=message.id,
        sent_at_s=float(message.timestamp) if message.timestamp.isdigit() else 0.0,
        text=text,
        attachments=attachments,
        # A template's quick-reply button carries its payload; interactive replies carry the title as text.
        reply_payload=(message.button.payload or "") if message.button is not None else "",
    )


def _content(message: Message) -> tuple[str, tuple[MediaRef, ...]] | None:
    """Text and media of the types a customer writes with; reactions and the like are not contacts."""
    if message.text is not None:
        return message.text.body, ()
    for media in (message.image, message.video, message.audio, message.document, message.sticker):
        if media is not None:
            ref = MediaRef(media.id, media.mime_type, filename=media.filename or "", sha256=media.sha256)
            return media.caption or "", (ref,)
    if message.interactive is not None:
        reply = message.interactive.button_reply or message.interactive.list_reply
        return (reply.title, ()) if reply is not None else None
    if message.button is not None:
        return message.button.text, ()
    if message.location is not None:
        place = message.location
        return place.name or "", (MediaRef(f"geo:{place.latitude},{place.longitude}", "application/geo+json"),)
    return None
