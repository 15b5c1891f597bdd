"""Meta webhooks (Messenger, Instagram, WhatsApp) through real HTTP into the real broker."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.pii import assert_no_pii, telemetry_texts

from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.contact_events import conversation_id, customer_id
from services.social_gateway.domain.messages import Platform

from .conftest import GatewayProcess, http, inbound_events, meta_signature, without_volatile_fields

# Platform timestamps a minute old: well inside the gateway's replay window.
SENT_AT = int(time.time()) - 60

pytestmark = pytest.mark.integration

PAGE_ID = "100000000000001"
INSTAGRAM_ID = "17841400000000001"
PHONE_NUMBER_ID = "109000000000001"


def post_signed(gateway: GatewayProcess, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    return http.post(
        f"{gateway.url}/webhooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": meta_signature(body), "content-type": "application/json"},
    )


def messenger_event(psid: str, **event: object) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": SENT_AT * 1000 + 123, **event}


def test_the_subscription_handshake_echoes_the_challenge_only_for_our_verify_token(gateway: GatewayProcess) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "demo-verify-token", "hub.challenge": "1158201444"}
    accepted = http.get(f"{gateway.url}/webhooks/meta", params=params)
    assert accepted.status_code == 200
    assert accepted.text == "1158201444"
    refused = http.get(f"{gateway.url}/webhooks/meta", params={**params, "hub.verify_token": "guess"})
    assert refused.status_code == 403
    assert "1158201444" not in refused.text
    markup = http.get(f"{gateway.url}/webhooks/meta", params={**params, "hub.challenge": "<script>x</script>"})
    assert markup.status_code == 400


def test_a_messenger_batch_publishes_each_customer_message_and_records_the_rest(
    gateway: GatewayProcess, topics: str
) -> None:
    psid = str(random.randint(10**15, 10**16))
    mid = uuid.uuid4().hex
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": SENT_AT * 1000 + 500,
                "messaging": [
                    messenger_event(psid, message={"mid": f"m_{mid}_1", "text": "Hello, my order never arrived."}),
                    messenger_event(
                        psid,
                        message={
                            "mid": f"m_{mid}_2",
                            "text": "Talk to an agent",
                            "quick_reply": {"payload": "AGENT"},
                        },
                    ),
                    messenger_event(
                        psid,
                        message={
                            "mid": f"m_{mid}_3",
                            "attachments": [
                                {"type": "image", "payload": {"url": "https://scontent.example/photo.jpg"}},
                                {"type": "file", "payload": {"url": "https://cdn.example/inv.pdf", "title": "inv.pdf"}},
                            ],
                        },
                    ),
                    messenger_event(
                        psid, postback={"mid": f"m_{mid}_4", "title": "Get Started", "payload": "GET_STARTED"}
                    ),
                    # Our own reply echoed back, a delivery and a read receipt: recorded, never routed.
                    {
                        "sender": {"id": PAGE_ID},
                        "recipient": {"id": psid},
                        "timestamp": SENT_AT * 1000 + 999,
                        "message": {"mid": f"m_{mid}_echo", "is_echo": True, "app_id": 1517776481860111, "text": "Hi"},
                    },
                    messenger_event(psid, delivery={"mids": [f"m_{mid}_echo"], "watermark": SENT_AT * 1000 + 999}),
                    messenger_event(psid, read={"watermark": SENT_AT * 1000 + 999}),
                ],
            }
        ],
    }
    response = post_signed(gateway, payload)
    assert response.status_code == 200
    assert response.json() == {"published": 4, "duplicates": 0, "skipped": 3}

    conversation = conversation_id(Platform.MESSENGER, PAGE_ID, psid)
    events = inbound_events(topics, conversation, 4)
    assert len(events) == 4
    by_mid = {event.source.platform_message_id: event for event in events}
    customer = contact_pb2.Customer(customer_id=customer_id(Platform.MESSENGER, psid), handle=psid)

    def expected(suffix: str, text: str, language: str, **fields: Any) -> contact_pb2.ContactEvent:
        return contact_pb2.ContactEvent(
            conversation_id=conversation,
            channel=contact_pb2.CHANNEL_MESSENGER,
            customer=customer,
            body_text=text,
            language=language,
            queue="general",
            source=contact_pb2.SourceRef(page_id=PAGE_ID, platform_message_id=f"m_{mid}_{suffix}", thread_id=psid),
            **fields,
        )

    assert without_volatile_fields(by_mid[f"m_{mid}_1"]) == expected("1", "Hello, my order never arrived.", "en")
    assert without_volatile_fields(by_mid[f"m_{mid}_2"]) == expected("2", "Talk to an agent", "en")
    assert without_volatile_fields(by_mid[f"m_{mid}_3"]) == expected(
        "3",
        "",
        "und",
        attachments=[
            contact_pb2.Attachment(content_type="image/*", media_ref="https://scontent.example/photo.jpg"),
            contact_pb2.Attachment(
                filename="inv.pdf", content_type="application/octet-stream", media_ref="https://cdn.example/inv.pdf"
            ),
        ],
    )
    assert without_volatile_fields(by_mid[f"m_{mid}_4"]) == expected("4", "Get Started", "en")
    assert len({event.event_id for event in events}) == 4


def test_an_instagram_message_becomes_an_instagram_contact(gateway: GatewayProcess, topics: str) -> None:
    igsid = str(random.randint(10**15, 10**16))
    mid = f"aWdfZAG1faXRlbToxOklH{uuid.uuid4().hex}"
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": INSTAGRAM_ID,
                "time": SENT_AT * 1000 + 500,
                "messaging": [
                    {
                        "sender": {"id": igsid},
                        "recipient": {"id": INSTAGRAM_ID},
                        "timestamp": SENT_AT * 1000 + 123,
                        "message": {"mid": mid, "text": "Guten Tag, meine Bestellung ist nicht angekommen."},
                    }
                ],
            }
        ],
    }
    assert post_signed(gateway, payload).json() == {"published": 1, "duplicates": 0, "skipped": 0}
    (event,) = inbound_events(topics, conversation_id(Platform.INSTAGRAM, INSTAGRAM_ID, igsid), 1)
    assert without_volatile_fields(event) == contact_pb2.ContactEvent(
        conversation_id=conversation_id(Platform.INSTAGRAM, INSTAGRAM_ID, igsid),
        channel=contact_pb2.CHANNEL_INSTAGRAM,
        customer=contact_pb2.Customer(customer_id=customer_id(Platform.INSTAGRAM, igsid), handle=igsid),
        body_text="Guten Tag, meine Bestellung ist nicht angekommen.",
        language="de",
        queue="general",
        source=contact_pb2.SourceRef(page_id=INSTAGRAM_ID, platform_message_id=mid, thread_id=igsid),
    )


def test_whatsapp_messages_media_and_statuses(gateway: GatewayProcess, topics: str) -> None:
    wa_id = str(random.randint(10**10, 10**11))
    wamid = f"wamid.HBgL{uuid.uuid4().hex}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Jana Nováková"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"{wamid}1",
                "timestamp": str(SENT_AT),
                "type": "text",
                "text": {"body": "Dobrý deň, moja objednávka neprišla. Môžete mi pomôcť?"},
            },
            {
                "from": wa_id,
                "id": f"{wamid}2",
                "timestamp": str(SENT_AT + 1),
                "type": "image",
                "image": {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "aGFzaA==", "caption": ""},
            },
            {
                "from": wa_id,
                "id": f"{wamid}3",
                "timestamp": str(SENT_AT + 2),
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "agent", "title": "Talk to an agent"}},
            },
        ],
    }
    statuses = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [
            {"id": "wamid.sent1", "status": "delivered", "timestamp": str(SENT_AT + 3), "recipient_id": wa_id},
            {"id": "wamid.sent1", "status": "read", "timestamp": str(SENT_AT + 4), "recipient_id": wa_id},
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [{"field": "messages", "value": value}, {"field": "messages", "value": statuses}],
            }
        ],
    }
    assert post_signed(gateway, payload).json() == {"published": 3, "duplicates": 0, "skipped": 2}

    conversation = conversation_id(Platform.WHATSAPP, PHONE_NUMBER_ID, wa_id)
    events = {event.source.platform_message_id: event for event in inbound_events(topics, conversation, 3)}
    customer = contact_pb2.Customer(
        customer_id=customer_id(Platform.WHATSAPP, wa_id), handle=wa_id, display_name="Jana Nováková"
    )

    def expected(n: int, text: str, language: str, **fields: Any) -> contact_pb2.ContactEvent:
        return contact_pb2.ContactEvent(
            conversation_id=conversation,
            channel=contact_pb2.CHANNEL_WHATSAPP,
            customer=customer,
            body_text=text,
            language=language,
            # The demo config sends this phone number's contacts to billing.
            queue="billing",
            source=contact_pb2.SourceRef(page_id=PHONE_NUMBER_ID, platform_message_id=f"{wamid}{n}", thread_id=wa_id),
            **fields,
        )

    assert without_volatile_fields(events[f"{wamid}1"]) == expected(
        1, "Dobrý deň, moja objednávka neprišla. Môžete mi pomôcť?", "sk"
    )
    assert without_volatile_fields(events[f"{wamid}2"]) == expected(
        2,
        "",
        "und",
        attachments=[
            contact_pb2.Attachment(content_type="image/jpeg", sha256="aGFzaA==", media_ref="1479537139650973")
        ],
    )
    assert without_volatile_fields(events[f"{wamid}3"]) == expected(3, "Talk to an agent", "en")


def test_a_replayed_delivery_is_published_once(gateway: GatewayProcess, topics: str) -> None:
    psid = str(random.randint(10**15, 10**16))
    payload = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "messaging": [messenger_event(psid, message={"mid": f"m_{psid}", "text": "Hi"})]}],
    }
    assert post_signed(gateway, payload).json() == {"published": 1, "duplicates": 0, "skipped": 0}
    assert post_signed(gateway, payload).json() == {"published": 0, "duplicates": 1, "skipped": 0}
    assert len(inbound_events(topics, conversation_id(Platform.MESSENGER, PAGE_ID, psid), 1, settle_s=1.0)) == 1


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=" + "0" * 64, 403), ("demo-meta-secret", 403)],
    ids=["missing", "wrong", "secret-in-clear"],
)
def test_unsigned_or_badly_signed_posts_are_refused_and_never_published(
    gateway: GatewayProcess, topics: str, signature: str | None, status: int
) -> None:
    psid = str(random.randint(10**15, 10**16))
    payload = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "messaging": [messenger_event(psid, message={"mid": f"m_{psid}", "text": "Hi"})]}],
    }
    headers = {"X-Hub-Signature-256": signature} if signature else {}
    response = http.post(f"{gateway.url}/webhooks/meta", content=json.dumps(payload).encode(), headers=headers)
    assert response.status_code == status
    assert inbound_events(topics, conversation_id(Platform.MESSENGER, PAGE_ID, psid), 0) == []


def test_a_signature_over_different_bytes_is_refused(gateway: GatewayProcess) -> None:
    body = b'{"object": "page", "entry": []}'
    response = http.post(
        f"{gateway.url}/webhooks/meta",
        content=body + b" ",
        headers={"X-Hub-Signature-256": meta_signature(body)},
    )
    assert response.status_code == 403


def test_an_oversize_body_is_refused_with_413(gateway: GatewayProcess) -> None:
    body = b'{"object": "page", "entry": [], "padding": "' + b"x" * 1_100_000 + b'"}'
    response = http.post(
        f"{gateway.url}/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta_signature(body)}
    )
    assert response.status_code == 413


def test_an_oversize_body_without_a_length_is_cut_off_while_streaming(gateway: GatewayProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"object": "page", "entry": [], "padding": "'
        for _ in range(200):
            yield b"x" * 10_000
        yield b'"}'

    response = http.post(f"{gateway.url}/webhooks/meta", content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"})
    assert response.status_code == 413


def test_logs_carry_no_message_text_names_or_user_ids(gateway: GatewayProcess, topics: str) -> None:
    psid = str(random.randint(10**15, 10**16))
    text = f"My secret order number is {uuid.uuid4().hex}"
    payload = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "messaging": [messenger_event(psid, message={"mid": f"m_{psid}", "text": text})]}],
    }
    assert post_signed(gateway, payload).status_code == 200
    malformed = json.dumps({"object": "page", "entry": [{"messaging": [{"text": text}]}]}).encode()
    response = http.post(
        f"{gateway.url}/webhooks/meta", content=malformed, headers={"X-Hub-Signature-256": meta_signature(malformed)}
    )
    assert response.status_code == 400
    assert inbound_events(topics, conversation_id(Platform.MESSENGER, PAGE_ID, psid), 1)
    log = gateway.log_file.read_text()
    assert '"webhook_accepted"' in log and '"webhook_malformed"' in log
    time.sleep(1.0)  # spans are exported in batches every half second
    # Names from this module's other tests count too: the whole log and span files are checked.
    assert_no_pii(telemetry_texts(gateway.log_file, gateway.trace_file), [text, psid, "Jana Nováková", "Kerry"])
