"""X Account Activity webhooks through real HTTP into the real broker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time

import httpx
import pytest

from contactrouting.v1 import contact_pb2
from services.social_gateway.domain.contact_events import conversation_id, customer_id
from services.social_gateway.domain.messages import Platform

from .conftest import GatewayProcess, http, inbound_events, without_volatile_fields, x_signature

# Platform timestamps a minute old: well inside the gateway's replay window.
SENT_AT = int(time.time()) - 60

pytestmark = pytest.mark.integration

ACCOUNT_ID = "1500000000000000001"


def post_signed(gateway: GatewayProcess, payload: dict, signature: str | None = "valid") -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-twitter-webhooks-signature"] = x_signature(body) if signature == "valid" else signature
    return http.post(f"{gateway.url}/webhooks/x", content=body, headers=headers)


def dm(event_id: str, sender_id: str, recipient_id: str, text: str, **message_data: object) -> dict:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(SENT_AT * 1000 + 557),
        "message_create": {
            "target": {"recipient_id": recipient_id},
            "sender_id": sender_id,
            "message_data": {"text": text, "entities": {"hashtags": [], "urls": []}, **message_data},
        },
    }


def test_the_crc_challenge_is_answered_with_the_hmac_of_the_token(gateway: GatewayProcess) -> None:
    response = http.get(f"{gateway.url}/webhooks/x", params={"crc_token": "challenge-123"})
    assert response.status_code == 200
    digest = hmac.new(b"demo-x-secret", b"challenge-123", hashlib.sha256).digest()
    assert response.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}
    assert http.get(f"{gateway.url}/webhooks/x").status_code == 400


def test_direct_messages_are_published_and_our_own_are_ignored(gateway: GatewayProcess, topics: str) -> None:
    user_id = str(random.randint(10**17, 10**18))
    first, second, own = (str(random.randint(10**17, 10**18)) for _ in range(3))
    payload = {
        "for_user_id": ACCOUNT_ID,
        "direct_message_events": [
            dm(first, user_id, ACCOUNT_ID, "Hello, my order never arrived and I would like a refund please."),
            dm(
                second,
                user_id,
                ACCOUNT_ID,
                "Here is the photo of the damaged package",
                attachment={
                    "type": "media",
                    "media": {
                        "id": 951,
                        "id_str": "951",
                        "media_url_https": "https://ton.x.com/dm/951/photo.jpg",
                        "type": "photo",
                    },
                },
            ),
            dm(own, ACCOUNT_ID, user_id, "Thanks, we are on it."),
        ],
        "users": {
            user_id: {"id": user_id, "name": "Jordan Brinks", "screen_name": "furiouscamper"},
            ACCOUNT_ID: {"id": ACCOUNT_ID, "name": "Support", "screen_name": "support"},
        },
    }
    response = post_signed(gateway, payload)
    assert response.status_code == 200
    assert response.json() == {"published": 2, "duplicates": 0, "skipped": 1}

    conversation = conversation_id(Platform.X, ACCOUNT_ID, user_id)
    events = {event.source.platform_message_id: event for event in inbound_events(topics, conversation, 2)}
    assert set(events) == {first, second}
    customer = contact_pb2.Customer(
        customer_id=customer_id(Platform.X, user_id), handle=user_id, display_name="Jordan Brinks"
    )
    assert without_volatile_fields(events[first]) == contact_pb2.ContactEvent(
        conversation_id=conversation,
        channel=contact_pb2.CHANNEL_X,
        customer=customer,
        body_text="Hello, my order never arrived and I would like a refund please.",
        language="en",
        # "refund" is a billing keyword in the demo config.
        queue="billing",
        source=contact_pb2.SourceRef(page_id=ACCOUNT_ID, platform_message_id=first, thread_id=user_id),
    )
    assert without_volatile_fields(events[second]) == contact_pb2.ContactEvent(
        conversation_id=conversation,
        channel=contact_pb2.CHANNEL_X,
        customer=customer,
        body_text="Here is the photo of the damaged package",
        language="en",
        queue="general",
        attachments=[contact_pb2.Attachment(content_type="image/*", media_ref="https://ton.x.com/dm/951/photo.jpg")],
        source=contact_pb2.SourceRef(page_id=ACCOUNT_ID, platform_message_id=second, thread_id=user_id),
    )


def test_typing_and_read_events_are_recorded_not_routed(gateway: GatewayProcess) -> None:
    payload = {
        "for_user_id": ACCOUNT_ID,
        "direct_message_indicate_typing_events": [{"created_timestamp": "1", "sender_id": "5", "target": {}}],
        "direct_message_mark_read_events": [{"created_timestamp": "1", "sender_id": "5", "target": {}}],
    }
    assert post_signed(gateway, payload).json() == {"published": 0, "duplicates": 0, "skipped": 2}


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("sha256=AAAA", 403)], ids=["missing", "wrong"])
def test_unsigned_or_badly_signed_events_are_refused(
    gateway: GatewayProcess, topics: str, signature: str | None, status: int
) -> None:
    user_id = str(random.randint(10**17, 10**18))
    payload = {"for_user_id": ACCOUNT_ID, "direct_message_events": [dm("77", user_id, ACCOUNT_ID, "hi")]}
    assert post_signed(gateway, payload, signature).status_code == status
    assert inbound_events(topics, conversation_id(Platform.X, ACCOUNT_ID, user_id), 0) == []
