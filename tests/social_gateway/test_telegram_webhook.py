"""Telegram webhooks through real HTTP into the real broker: exact ContactEvents, refusals and dead letters."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import pytest
from opentelemetry import trace

from contactrouting.kafka_io import ConsumedRecord
from contactrouting.language import detect_language
from contactrouting.topics import CONTACTS_DEADLETTER, CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.contact_events import conversation_id, customer_id
from services.social_gateway.domain.messages import Platform

from .conftest import GatewayProcess, http, read_topic, without_volatile_fields

# Platform timestamps a minute old: well inside the gateway's replay window.
SENT_AT = int(time.time()) - 60

pytestmark = pytest.mark.integration

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}


def unique_id() -> int:
    return random.randint(10**8, 10**12)


def text_update(chat_id: int, message_id: int, text: str, language_code: str = "hr") -> dict:
    return {
        "update_id": unique_id(),
        "message": {
            "message_id": message_id,
            "date": SENT_AT,
            "chat": {"id": chat_id, "type": "private", "first_name": "Marko"},
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": "Marko",
                "last_name": "Horvat",
                "language_code": language_code,
            },
            "text": text,
        },
    }


def inbound_for(kafka: str, chat_id: int, expected: int, settle_s: float = 0.0) -> list[contact_pb2.ContactEvent]:
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    return read_topic(
        kafka,
        CONTACTS_INBOUND,
        contact_pb2.ContactEvent,
        keep=lambda record: record.key == conversation,
        until=(lambda events: len(events) >= expected) if expected else None,
        settle_s=settle_s,
    )


def test_a_signed_text_update_becomes_one_exact_contact_event(gateway: GatewayProcess, topics: str) -> None:
    chat_id = unique_id()
    text = "Pozdrav, ne radi mi prijava u aplikaciju, možete li mi pomoći?"
    before = time.time()
    response = http.post(
        f"{gateway.url}/webhooks/telegram/demo-bot", json=text_update(chat_id, 42, text), headers=SECRET
    )
    assert response.status_code == 200
    assert response.json() == {"published": 1, "duplicates": 0, "skipped": 0}

    (event,) = inbound_for(topics, chat_id, 1, settle_s=0.5)
    assert event.channel == contact_pb2.CHANNEL_TELEGRAM
    assert event.conversation_id == conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    assert event.conversation_id.startswith("telegram:")
    assert event.contact_id == event.event_id
    assert uuid.UUID(event.event_id)
    assert event.customer == contact_pb2.Customer(
        customer_id=customer_id(Platform.TELEGRAM, str(chat_id)), handle=str(chat_id), display_name="Marko Horvat"
    )
    assert event.body_text == text
    assert event.language == "hr"
    assert event.language_hint == "hr"
    assert event.language_confidence == pytest.approx(detect_language(text, "hr").confidence, abs=1e-6)
    assert event.queue == "general"
    assert list(event.attachments) == []
    assert event.source == contact_pb2.SourceRef(page_id="demo-bot", platform_message_id="42", thread_id=str(chat_id))
    assert event.is_edit is False
    assert before - 1 <= event.received_at.ToNanoseconds() / 1e9 <= time.time() + 1


def test_the_customer_id_is_stable_across_chats_of_the_same_user(gateway: GatewayProcess, topics: str) -> None:
    assert customer_id(Platform.TELEGRAM, "7") == customer_id(Platform.TELEGRAM, "7")
    assert customer_id(Platform.TELEGRAM, "7") != customer_id(Platform.X, "7")


def test_receive_span_is_the_server_parent_of_the_message_span_and_the_publish(
    gateway: GatewayProcess, topics: str
) -> None:
    chat_id = unique_id()
    response = http.post(
        f"{gateway.url}/webhooks/telegram/demo-bot",
        json=text_update(chat_id, 1, "Hello, my order never arrived, can you help me please?", "en"),
        headers=SECRET,
    )
    assert response.status_code == 200
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    records: list[ConsumedRecord] = []

    def keep(record: ConsumedRecord) -> bool:
        if record.key != conversation:
            return False
        records.append(record)  # the headers' trace context is what this test is about
        return True

    read_topic(topics, CONTACTS_INBOUND, contact_pb2.ContactEvent, keep=keep, until=lambda events: len(events) >= 1)
    (record,) = records
    header_context = trace.get_current_span(record.context).get_span_context()
    trace_id = format(header_context.trace_id, "032x")
    spans = gateway.spans(trace_id, minimum=3)
    assert len(spans) == 3
    by_kind = {span["kind"]: span for span in spans}
    receive, publish = by_kind["SERVER"], by_kind["PRODUCER"]
    (message,) = [span for span in spans if span["name"] == "telegram message"]
    assert receive["name"] == "POST /webhooks/telegram/{bot_id}"
    assert receive["parent_span_id"] is None
    assert receive["attributes"]["http.response.status_code"] == 200
    assert message["parent_span_id"] == receive["span_id"]
    assert publish["parent_span_id"] == message["span_id"]
    assert format(header_context.span_id, "016x") == publish["span_id"]
    assert "Hello" not in json.dumps(spans)


def test_a_replayed_update_is_published_once(gateway: GatewayProcess, topics: str) -> None:
    chat_id = unique_id()
    update = text_update(chat_id, 5, "Dobar dan, trebam pomoć oko dostave.")
    first = http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json=update, headers=SECRET)
    again = http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json=update, headers=SECRET)
    assert first.json() == {"published": 1, "duplicates": 0, "skipped": 0}
    assert again.status_code == 200
    assert again.json() == {"published": 0, "duplicates": 1, "skipped": 0}
    assert len(inbound_for(topics, chat_id, 1, settle_s=1.0)) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secreT"}, 403)],
    ids=["missing", "wrong"],
)
def test_unsigned_or_badly_signed_updates_are_refused_and_never_published(
    gateway: GatewayProcess, topics: str, headers: dict[str, str], status: int
) -> None:
    chat_id = unique_id()
    response = http.post(
        f"{gateway.url}/webhooks/telegram/demo-bot", json=text_update(chat_id, 1, "hello there"), headers=headers
    )
    assert response.status_code == status
    assert inbound_for(topics, chat_id, 0) == []


def test_an_unknown_bot_gets_404(gateway: GatewayProcess) -> None:
    response = http.post(f"{gateway.url}/webhooks/telegram/other-bot", json={"update_id": 1}, headers=SECRET)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2, 3]", b'{"update_id": "many", "message": {}}', b'{"message": {"text": "no ids"}}'],
    ids=["invalid-json", "not-an-object", "wrong-types", "missing-fields"],
)
def test_signed_but_malformed_updates_get_400_and_one_dead_letter(
    gateway: GatewayProcess, topics: str, body: bytes
) -> None:
    marker = body + b" " * random.randint(1, 10**6 % 97 + 1) + uuid.uuid4().hex.encode()
    response = http.post(
        f"{gateway.url}/webhooks/telegram/demo-bot",
        content=marker,
        headers={**SECRET, "content-type": "application/json"},
    )
    assert response.status_code == 400
    (letter,) = read_topic(
        topics,
        CONTACTS_DEADLETTER,
        contact_pb2.DeadLetter,
        keep=lambda record: isinstance(record.message, contact_pb2.DeadLetter) and record.message.raw == marker,
        until=lambda letters: len(letters) >= 1,
        settle_s=0.3,
    )
    assert letter.source == "social_gateway.telegram"
    assert letter.reason == response.json()["reason"]
    assert letter.details == {"route": "/webhooks/telegram/{bot_id}", "bot_id": "demo-bot"}


def test_edits_captions_photos_and_documents(gateway: GatewayProcess, topics: str) -> None:
    chat_id = unique_id()
    sender = {"id": chat_id, "is_bot": False, "first_name": "Eva", "language_code": "sk"}
    chat = {"id": chat_id, "type": "private"}
    photo = {
        "update_id": unique_id(),
        "message": {
            "message_id": 10,
            "date": SENT_AT,
            "chat": chat,
            "from": sender,
            "caption": "Dobrý deň, posielam fotku poškodeného balíka.",
            "photo": [
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 60, "file_size": 1200},
                {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 853, "file_size": 98000},
            ],
        },
    }
    document = {
        "update_id": unique_id(),
        "message": {
            "message_id": 11,
            "date": SENT_AT + 1,
            "chat": chat,
            "from": sender,
            "document": {
                "file_id": "doc-1",
                "file_unique_id": "d1",
                "file_name": "faktura.pdf",
                "mime_type": "application/pdf",
                "file_size": 48213,
            },
        },
    }
    edited = {
        "update_id": unique_id(),
        "edited_message": {
            "message_id": 10,
            "date": SENT_AT,
            "edit_date": SENT_AT + 60,
            "chat": chat,
            "from": sender,
            "caption": "Dobrý deň, posielam fotku poškodeného balíka. Objednávka 1234.",
            "photo": [{"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 853}],
        },
    }
    for update in (photo, document, edited):
        assert http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json=update, headers=SECRET).json() == {
            "published": 1,
            "duplicates": 0,
            "skipped": 0,
        }
    events = inbound_for(topics, chat_id, 3, settle_s=0.5)
    assert len(events) == 3
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    customer = contact_pb2.Customer(
        customer_id=customer_id(Platform.TELEGRAM, str(chat_id)), handle=str(chat_id), display_name="Eva"
    )

    def expected(message_id: int, text: str, language: str, **fields: Any) -> contact_pb2.ContactEvent:
        return contact_pb2.ContactEvent(
            conversation_id=conversation,
            channel=contact_pb2.CHANNEL_TELEGRAM,
            customer=customer,
            body_text=text,
            language=language,
            language_hint="sk",
            queue="general",
            source=contact_pb2.SourceRef(
                page_id="demo-bot", platform_message_id=str(message_id), thread_id=str(chat_id)
            ),
            **fields,
        )

    photo_event, document_event, edit_event = sorted(
        events, key=lambda event: (event.is_edit, event.source.platform_message_id)
    )
    assert without_volatile_fields(photo_event) == expected(
        10,
        "Dobrý deň, posielam fotku poškodeného balíka.",
        "sk",
        attachments=[contact_pb2.Attachment(content_type="image/jpeg", size_bytes=98000, media_ref="large")],
    )
    assert without_volatile_fields(document_event) == expected(
        11,
        "",
        "sk",  # no text: the user's language_code stands in
        attachments=[
            contact_pb2.Attachment(
                filename="faktura.pdf", content_type="application/pdf", size_bytes=48213, media_ref="doc-1"
            )
        ],
    )
    assert without_volatile_fields(edit_event) == expected(
        10,
        "Dobrý deň, posielam fotku poškodeného balíka. Objednávka 1234.",
        "sk",
        attachments=[contact_pb2.Attachment(content_type="image/jpeg", media_ref="large")],
        is_edit=True,
    )
    assert edit_event.event_id != photo_event.event_id


def test_without_a_feedback_secret_there_is_no_feedback_endpoint(gateway: GatewayProcess) -> None:
    response = http.get(f"{gateway.url}/feedback/some.ticket?scale=csat&rating=5")
    assert response.status_code == 404
