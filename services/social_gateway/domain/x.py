"""X Account Activity API events: direct messages to our accounts; everything else is recorded, not routed.

https://docs.x.com/x-api/enterprise-gnip-2.0/fundamentals/account-activity
"""

from __future__ import annotations

from services.social_gateway.domain.messages import (
    InboundMessage,
    MediaRef,
    Normalized,
    Platform,
    SkippedItem,
    SkipReason,
)
from services.social_gateway.domain.payloads import PlatformId, PlatformModel, parse


class Media(PlatformModel):
    id_str: str
    media_url_https: str = ""
    type: str = ""


class Attachment(PlatformModel):
    type: str
    media: Media | None = None


class MessageData(PlatformModel):
    text: str = ""
    attachment: Attachment | None = None


class Target(PlatformModel):
    recipient_id: PlatformId


class MessageCreate(PlatformModel):
    target: Target
    sender_id: PlatformId
    message_data: MessageData = MessageData()


class DirectMessageEvent(PlatformModel):
    type: str
    id: PlatformId
    created_timestamp: str = "0"
    message_create: MessageCreate | None = None


class User(PlatformModel):
    id: str
    name: str = ""


class ActivityEvent(PlatformModel):
    for_user_id: PlatformId
    direct_message_events: list[DirectMessageEvent] = []
    users: dict[str, User] = {}
    # Tweets, likes, follows, typing and read indicators: signed and valid, but not contacts.
    tweet_create_events: list[object] = []
    favorite_events: list[object] = []
    follow_events: list[object] = []
    direct_message_indicate_typing_events: list[object] = []
    direct_message_mark_read_events: list[object] = []


_MEDIA_TYPES = {"photo": "image/*", "video": "video/*", "animated_gif": "image/gif"}


def normalize(raw: bytes) -> Normalized:
    event = parse(ActivityEvent, raw)
    account = event.for_user_id
    messages: list[InboundMessage] = []
    skipped: list[SkippedItem] = []
    for dm in event.direct_message_events:
        create = dm.message_create
        if dm.type != "message_create" or create is None:
            skipped.append(SkippedItem(Platform.X, SkipReason.UNSUPPORTED))
        elif create.sender_id == account:
            skipped.append(SkippedItem(Platform.X, SkipReason.OWN_MESSAGE))
        else:
            messages.append(_inbound(account, dm, create, event.users.get(create.sender_id)))
    read = event.direct_message_mark_read_events
    skipped.extend(SkippedItem(Platform.X, SkipReason.READ) for _ in read)
    others = (
        event.tweet_create_events,
        event.favorite_events,
        event.follow_events,
        event.direct_message_indicate_typing_events,
    )
    skipped.extend(SkippedItem(Platform.X, SkipReason.UNSUPPORTED) for items in others for _ in items)
    return Normalized(tuple(messages), tuple(skipped))


def _inbound(account: str, dm: DirectMessageEvent, create: MessageCreate, user: User | None) -> InboundMessage:
    data = create.message_data
    attachments: tuple[MediaRef, ...] = ()
    if data.attachment is not None and data.attachment.media is not None:
        media = data.attachment.media
        attachments = (MediaRef(media.media_url_https or media.id_str, _MEDIA_TYPES.get(media.type, media.type)),)
    return InboundMessage(
        platform=Platform.X,
        source_id=account,
        sender_id=create.sender_id,
        sender_name=user.name if user is not None else "",
        thread_id=create.sender_id,
        message_id=dm.id,
        sent_at_s=int(dm.created_timestamp) / 1000.0 if dm.created_timestamp.isdigit() else 0.0,
        text=data.text,
        attachments=attachments,
    )
