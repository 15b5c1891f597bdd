"""InboundMessage to ContactEvent: stable ids, detected language and the queue hint."""

from __future__ import annotations

import uuid

from google.protobuf.timestamp_pb2 import Timestamp

from contactrouting.language import detect_language
from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.messages import InboundMessage, Platform
from services.social_gateway.domain.queue_rules import QueueRules

# Fixed namespace: the same platform identity yields the same id in every process and on every restart.
_NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4f4b-9a57-3c2de1a5b0c4")

CHANNELS = {
    Platform.MESSENGER: contact_pb2.CHANNEL_MESSENGER,
    Platform.INSTAGRAM: contact_pb2.CHANNEL_INSTAGRAM,
    Platform.WHATSAPP: contact_pb2.CHANNEL_WHATSAPP,
    Platform.TELEGRAM: contact_pb2.CHANNEL_TELEGRAM,
    Platform.X: contact_pb2.CHANNEL_X,
}


def customer_id(platform: Platform, sender_id: str) -> str:
    return f"{platform.value}:{uuid.uuid5(_NAMESPACE, f'customer:{platform.value}:{sender_id}')}"


def conversation_id(platform: Platform, source_id: str, thread_id: str) -> str:
    return f"{platform.value}:{uuid.uuid5(_NAMESPACE, f'conversation:{platform.value}:{source_id}:{thread_id}')}"


def event_id(message: InboundMessage) -> str:
    """Derived from the dedupe key, so a replay that slips past the store still carries the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"event:{message.dedupe_key}"))


def to_contact_event(message: InboundMessage, received_at_ns: int, rules: QueueRules) -> contact_pb2.ContactEvent:
    language = detect_language(message.text, message.language_hint)
    received_at = Timestamp()
    received_at.FromNanoseconds(received_at_ns)
    identity = event_id(message)
    return contact_pb2.ContactEvent(
        event_id=identity,
        contact_id=identity,
        conversation_id=conversation_id(message.platform, message.source_id, message.thread_id),
        channel=CHANNELS[message.platform],
        received_at=received_at,
        customer=contact_pb2.Customer(
            customer_id=customer_id(message.platform, message.sender_id),
            handle=message.sender_id,
            display_name=message.sender_name,
        ),
        body_text=message.text,
        language=language.language,
        language_confidence=language.confidence,
        language_hint=message.language_hint,
        attachments=[
            contact_pb2.Attachment(
                filename=media.filename,
                content_type=media.content_type,
                size_bytes=media.size_bytes,
                sha256=media.sha256,
                media_ref=media.media_ref,
            )
            for media in message.attachments
        ],
        queue=rules.queue_for(message.platform.value, message.source_id, message.text),
        source=contact_pb2.SourceRef(
            page_id=message.source_id,
            platform_message_id=message.message_id,
            thread_id=message.thread_id,
        ),
        is_edit=message.is_edit,
    )
