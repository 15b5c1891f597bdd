"""Replies out through a real gateway process to a real local HTTP server standing in for each platform."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
import yaml

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_OUTBOUND, ROUTING_EVENTS
from contactrouting.v1 import contact_pb2, routing_pb2

from .conftest import DEMO_CONFIG, GatewayProcess, read_topic, start_gateway
from .platform_stub import PlatformStub, ScriptedAnswer

pytestmark = pytest.mark.integration

RET = routing_pb2.RoutingEventType
TOKENS = {
    "telegram": "123456:TEST-token",
    "page": "page-token",
    "phone": "wa-token",
    "instagram": "ig-token",
    "x": "x-user-token",
}
INSTAGRAM_ACCOUNT = "17841400000000002"  # one with a token; the demo's own account has none


@pytest.fixture(scope="module")
def stub() -> Iterator[PlatformStub]:
    server = PlatformStub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def replying_gateway(
    topics: str, stub: PlatformStub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    work_dir = tmp_path_factory.mktemp("replies")
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["telegram"]["api_base_url"] = stub.url
    config["telegram"]["bots"]["demo-bot"]["api_token"] = TOKENS["telegram"]
    config["meta"]["graph_api_base_url"] = f"{stub.url}/v21.0"
    config["meta"]["sources"]["100000000000001"]["access_token"] = TOKENS["page"]
    config["meta"]["sources"]["109000000000001"]["access_token"] = TOKENS["phone"]
    config["meta"]["sources"][INSTAGRAM_ACCOUNT] = {"queue": "general", "access_token": TOKENS["instagram"]}
    config["x"]["api_base_url"] = stub.url
    config["x"]["accounts"]["1500000000000000001"]["access_token"] = TOKENS["x"]
    config["outbound"] = {"max_attempts": 3, "base_backoff_s": 0.05, "max_retry_after_s": 5}
    path = work_dir / "social_gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    gateway = start_gateway(work_dir, topics, config=path)
    yield gateway
    gateway.stop()


def publish(topics: str, message: contact_pb2.OutboundMessage) -> None:
    producer = ProtoProducer(ServiceSettings(kafka_bootstrap_servers=topics), client_id="test")
    producer.publish_and_wait(CONTACTS_OUTBOUND, message.conversation_id, message)
    producer.close()


def reply(channel: Any, source: str, handle: str, mid: str, **fields: Any) -> contact_pb2.OutboundMessage:
    return contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=str(uuid.uuid4()),
        conversation_id=f"conv-{uuid.uuid4().hex[:8]}",
        channel=channel,
        agent_id="agent-7",
        customer=contact_pb2.Customer(customer_id="cust-1", handle=handle),
        body_text="Hvala, provjeravamo vašu narudžbu.",
        language="hr",
        in_reply_to=contact_pb2.SourceRef(page_id=source, thread_id=handle, platform_message_id=mid),
        kind=contact_pb2.OUTBOUND_KIND_AGENT_REPLY,
        **fields,
    )


def routing_events(topics: str, contact_id: str) -> list[routing_pb2.RoutingEvent]:
    return read_topic(
        topics,
        ROUTING_EVENTS,
        routing_pb2.RoutingEvent,
        keep=lambda record: record.key == contact_id,
        until=lambda events: len(events) >= 1,
        timeout_s=30,
        settle_s=0.5,
    )


def test_a_telegram_reply_is_sent_with_send_message(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    chat_id = str(random.randint(10**8, 10**9))
    message = reply(contact_pb2.CHANNEL_TELEGRAM, "demo-bot", chat_id, "7")
    publish(topics, message)
    path = f"/bot{TOKENS['telegram']}/sendMessage"
    (request,) = stub.wait_for(path, 1, lambda r: r.body["chat_id"] == chat_id)
    assert request.body == {
        "chat_id": chat_id,
        "text": "Hvala, provjeravamo vašu narudžbu.",
        "reply_parameters": {"message_id": 7, "allow_sending_without_reply": True},
    }
    assert request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in request.headers
    (event,) = routing_events(topics, message.contact_id)
    assert (event.type, event.channel, event.agent_id, event.attempt, event.reason) == (
        RET.ROUTING_EVENT_TYPE_REPLY_SENT,
        contact_pb2.CHANNEL_TELEGRAM,
        "agent-7",
        1,
        "",
    )
    assert event.conversation_id == message.conversation_id


def test_whatsapp_429_is_retried_after_the_platforms_retry_after(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    wa_id = str(random.randint(10**10, 10**11))
    path = "/v21.0/109000000000001/messages"
    stub.answer(
        path, ScriptedAnswer(429, {"error": {"message": "rate limited", "code": 130429}}, (("Retry-After", "1"),))
    )
    message = reply(contact_pb2.CHANNEL_WHATSAPP, "109000000000001", wa_id, "wamid.IN")
    publish(topics, message)
    requests = stub.wait_for(path, 2, lambda r: r.body.get("to") == wa_id)
    assert len(requests) == 2
    assert requests[1].at - requests[0].at >= 0.9
    for request in requests:
        assert request.headers["Authorization"] == f"Bearer {TOKENS['phone']}"
        assert request.body == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": wa_id,
            "context": {"message_id": "wamid.IN"},
            "type": "text",
            "text": {"preview_url": False, "body": "Hvala, provjeravamo vašu narudžbu."},
        }
    (event,) = routing_events(topics, message.contact_id)
    assert (event.type, event.attempt) == (RET.ROUTING_EVENT_TYPE_REPLY_SENT, 2)


def test_a_permanent_messenger_failure_becomes_a_delivery_failed_event(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    psid = str(random.randint(10**15, 10**16))
    path = "/v21.0/100000000000001/messages"
    stub.answer(path, ScriptedAnswer(400, {"error": {"message": "(#551) This person isn't available right now."}}))
    message = reply(contact_pb2.CHANNEL_MESSENGER, "100000000000001", psid, "m_1", quick_replies=["Yes", "No"])
    publish(topics, message)
    (request,) = stub.wait_for(path, 1, lambda r: r.body["recipient"]["id"] == psid)
    assert request.headers["Authorization"] == f"Bearer {TOKENS['page']}"
    assert request.body == {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Hvala, provjeravamo vašu narudžbu.",
            "quick_replies": [
                {"content_type": "text", "title": "Yes", "payload": "Yes"},
                {"content_type": "text", "title": "No", "payload": "No"},
            ],
        },
    }
    (event,) = routing_events(topics, message.contact_id)
    assert event.type == RET.ROUTING_EVENT_TYPE_DELIVERY_FAILED
    assert event.reason == "messenger: HTTP 400: (#551) This person isn't available right now."
    assert event.attempt == 1
    assert len([r for r in stub.requests if r.path == path and r.body["recipient"]["id"] == psid]) == 1


def test_an_instagram_reply_goes_to_the_accounts_messages_edge(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    igsid = str(random.randint(10**15, 10**16))
    message = reply(contact_pb2.CHANNEL_INSTAGRAM, INSTAGRAM_ACCOUNT, igsid, "m_ig_1")
    publish(topics, message)
    path = f"/v21.0/{INSTAGRAM_ACCOUNT}/messages"
    (request,) = stub.wait_for(path, 1, lambda r: r.body["recipient"]["id"] == igsid)
    assert request.headers["Authorization"] == f"Bearer {TOKENS['instagram']}"
    assert request.body == {
        "recipient": {"id": igsid},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hvala, provjeravamo vašu narudžbu."},
    }
    (event,) = routing_events(topics, message.contact_id)
    assert (event.type, event.channel, event.attempt) == (
        RET.ROUTING_EVENT_TYPE_REPLY_SENT,
        contact_pb2.CHANNEL_INSTAGRAM,
        1,
    )


def test_server_errors_are_retried_with_doubling_waits(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    psid = str(random.randint(10**15, 10**16))
    path = "/v21.0/100000000000001/messages"
    unavailable = ScriptedAnswer(503, {"error": {"message": "temporarily unavailable"}})
    stub.answer(path, unavailable, unavailable)  # no Retry-After: the gateway's own backoff, 0.05 s then 0.1 s
    message = reply(contact_pb2.CHANNEL_MESSENGER, "100000000000001", psid, "m_2")
    publish(topics, message)
    requests = stub.wait_for(path, 3, lambda r: r.body["recipient"]["id"] == psid)
    assert len(requests) == 3
    first_wait, second_wait = (later.at - earlier.at for earlier, later in pairwise(requests))
    assert first_wait >= 0.045 and second_wait >= 0.095
    (event,) = routing_events(topics, message.contact_id)
    assert (event.type, event.attempt) == (RET.ROUTING_EVENT_TYPE_REPLY_SENT, 3)


def test_an_x_reply_uses_the_dm_endpoint(replying_gateway: GatewayProcess, stub: PlatformStub, topics: str) -> None:
    user_id = str(random.randint(10**17, 10**18))
    message = reply(contact_pb2.CHANNEL_X, "1500000000000000001", user_id, "dm-1")
    publish(topics, message)
    path = f"/2/dm_conversations/with/{user_id}/messages"
    (request,) = stub.wait_for(path, 1)
    assert request.body == {"text": "Hvala, provjeravamo vašu narudžbu."}
    assert request.headers["Authorization"] == f"Bearer {TOKENS['x']}"
    assert routing_events(topics, message.contact_id)[0].type == RET.ROUTING_EVENT_TYPE_REPLY_SENT


def test_a_reply_without_credentials_fails_without_calling_anyone(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    igsid = str(random.randint(10**15, 10**16))
    before = len(stub.requests)
    message = reply(contact_pb2.CHANNEL_INSTAGRAM, "17841400000000001", igsid, "m_ig")
    publish(topics, message)
    (event,) = routing_events(topics, message.contact_id)
    assert event.type == RET.ROUTING_EVENT_TYPE_DELIVERY_FAILED
    assert event.reason == "no instagram token configured for this source"
    assert len(stub.requests) == before


def test_a_redelivered_reply_is_not_sent_twice(
    replying_gateway: GatewayProcess, stub: PlatformStub, topics: str
) -> None:
    chat_id = str(random.randint(10**8, 10**9))
    message = reply(contact_pb2.CHANNEL_TELEGRAM, "demo-bot", chat_id, "9")
    publish(topics, message)
    path = f"/bot{TOKENS['telegram']}/sendMessage"
    assert len(stub.wait_for(path, 1, lambda r: r.body["chat_id"] == chat_id)) == 1
    publish(topics, message)  # as after a crash between the send and the offset commit

    events = read_topic(
        topics,
        ROUTING_EVENTS,
        routing_pb2.RoutingEvent,
        keep=lambda record: record.key == message.contact_id,
        until=lambda found: len(found) >= 2,
        timeout_s=30,
        settle_s=0.5,
    )
    assert [event.type for event in events] == [RET.ROUTING_EVENT_TYPE_REPLY_SENT] * 2
    assert events[0].event_id == events[1].event_id
    assert len([r for r in stub.requests if r.path == path and r.body["chat_id"] == chat_id]) == 1
