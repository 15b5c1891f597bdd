"""Two gateway processes sharing one PostgreSQL database (SOCIAL_GATEWAY_DATABASE_URL), as two Kubernetes replicas:
a platform retry reaching the other replica is a duplicate, and a chat survey sent by either is answered on the other.

They run against a broker of their own: their outbound consumer group (a fixed name) then starts and ends with them,
and the session broker's group stays as the other modules' single gateways expect it.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.postgres import TempPostgres

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoProducer
from contactrouting.topics import CONTACTS_FEEDBACK, CONTACTS_OUTBOUND, ensure_topics
from contactrouting.v1 import contact_pb2, feedback_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from services.social_gateway.domain.contact_events import conversation_id, customer_id
from services.social_gateway.domain.messages import Platform

from .conftest import DEMO_CONFIG, GatewayProcess, http, inbound_events, read_topic, start_gateway
from .platform_stub import PlatformStub
from .survey_records import publish_outbound, telegram_survey

pytestmark = pytest.mark.integration

SECRET = "feedback-secret-for-replica-tests"
BOT_TOKEN = "123456:REPLICA-token"
TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}
CSAT = contact_pb2.SURVEY_SCALE_CSAT


@pytest.fixture(scope="module")
def stub() -> Iterator[PlatformStub]:
    server = PlatformStub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def topics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path_factory.mktemp("broker") / "broker.log")
    broker.start()
    try:
        ensure_topics(broker.bootstrap_servers, partitions=3, replication_factor=1)
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def replicas(
    topics: str, stub: PlatformStub, postgres_server: TempPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    database_url = postgres_server.create_database()
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["telegram"]["api_base_url"] = stub.url
    config["telegram"]["bots"]["demo-bot"]["api_token"] = BOT_TOKEN
    started: list[GatewayProcess] = []
    try:
        for name in ("replica-a", "replica-b"):
            work_dir = tmp_path_factory.mktemp(name)
            path = work_dir / "social_gateway.yaml"
            path.write_text(yaml.safe_dump(config))
            env = {"FEEDBACK_TOKEN_SECRET": SECRET, "SOCIAL_GATEWAY_DATABASE_URL": database_url}
            started.append(start_gateway(work_dir, topics, config=path, extra_env=env))
        yield started[0], started[1]
    finally:
        for gateway in started:
            gateway.stop()


def telegram_text(chat_id: int, message_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": random.randint(1, 10**9),
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Marko", "language_code": "hr"},
            "text": text,
        },
    }


def post(gateway: GatewayProcess, update: dict[str, object]) -> dict[str, int]:
    response = http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json=update, headers=TELEGRAM)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_retry_reaching_the_other_replica_is_published_once(
    replicas: tuple[GatewayProcess, GatewayProcess], topics: str
) -> None:
    first, second = replicas
    chat_id = random.randint(10**8, 10**9)
    update = telegram_text(chat_id, 7, "Dobar dan, paket nije stigao.")
    assert post(first, update) == {"published": 1, "duplicates": 0, "skipped": 0}
    assert post(second, update) == {"published": 0, "duplicates": 1, "skipped": 0}
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    assert len(inbound_events(topics, conversation, 1, settle_s=1.0)) == 1
    # Shared for real: neither replica keeps its own SQLite store.
    for gateway in replicas:
        assert list(Path(gateway.log_file.parent / "data").rglob("*.sqlite3")) == []


def test_a_chat_survey_sent_by_one_replica_is_answered_through_the_other(
    replicas: tuple[GatewayProcess, GatewayProcess], stub: PlatformStub, topics: str
) -> None:
    chat_id = random.randint(10**8, 10**9)
    customer = customer_id(Platform.TELEGRAM, str(chat_id))
    ticket = feedback_pb2.SurveyTicket(
        survey_id=str(uuid.uuid4()),
        contact_id=str(uuid.uuid4()),
        conversation_id=f"conv-{uuid.uuid4().hex[:8]}",
        agent_id="agent-7",
        queue="billing",
        language="hr",
        channel=contact_pb2.CHANNEL_TELEGRAM,
        scales=[CSAT],
        customer_id=customer,
    )
    ticket.expires_at.FromSeconds(int(time.time() + 3600))
    survey = telegram_survey(ticket, chat_id, SECRET)
    publish_outbound(topics, survey)
    sent = stub.wait_for(f"/bot{BOT_TOKEN}/sendMessage", 1, lambda r: r.body["chat_id"] == str(chat_id))
    assert len(sent) == 1
    # Whichever replica's consumer took the record sent it; the customer's answer reaches the other one.
    deadline = time.monotonic() + 10
    senders: list[GatewayProcess] = []
    while not senders and time.monotonic() < deadline:
        senders = [gateway for gateway in replicas if ticket.survey_id in gateway.log_file.read_text()]
        time.sleep(0.05)
    assert len(senders) == 1
    (receiver,) = [gateway for gateway in replicas if gateway is not senders[0]]

    assert post(receiver, telegram_text(chat_id, 42, "4 brzo i ljubazno")) == {
        "published": 0,
        "duplicates": 0,
        "skipped": 0,
        "survey_answers": 1,
    }
    events = read_topic(
        topics,
        CONTACTS_FEEDBACK,
        feedback_pb2.FeedbackEvent,
        keep=lambda record: record.key == ticket.contact_id,
        until=lambda found: len(found) >= 1,
        settle_s=0.5,
    )
    assert [(event.rating, event.comment) for event in events] == [(4, "brzo i ljubazno")]
    # Answered on one replica is answered on both: the next number to the sender is a contact.
    assert post(senders[0], telegram_text(chat_id, 43, "5"))["published"] == 1


def test_a_database_outage_answers_503_and_holds_replies_until_it_is_back(
    replicas: tuple[GatewayProcess, GatewayProcess], stub: PlatformStub, postgres_server: TempPostgres, topics: str
) -> None:
    first, second = replicas
    chat_id = random.randint(10**8, 10**9)
    update = telegram_text(chat_id, 9, "Trebam pomoć s narudžbom.")
    reply = contact_pb2.OutboundMessage(
        message_id=uuid.uuid4().hex,
        contact_id=str(uuid.uuid4()),
        conversation_id=f"conv-{uuid.uuid4().hex[:8]}",
        channel=contact_pb2.CHANNEL_TELEGRAM,
        agent_id="agent-7",
        customer=contact_pb2.Customer(customer_id=customer_id(Platform.TELEGRAM, str(chat_id)), handle=str(chat_id)),
        body_text="Provjeravam, javim se za minutu.",
        language="hr",
        in_reply_to=contact_pb2.SourceRef(page_id="demo-bot", thread_id=str(chat_id), platform_message_id="9"),
        kind=contact_pb2.OUTBOUND_KIND_AGENT_REPLY,
    )
    postgres_server.pause()
    try:
        response = http.post(f"{first.url}/webhooks/telegram/demo-bot", json=update, headers=TELEGRAM)
        assert response.status_code == 503
        assert response.json() == {"error": "state store unavailable, retry later"}
        producer = ProtoProducer(ServiceSettings(kafka_bootstrap_servers=topics), client_id="test-router")
        try:
            producer.publish_and_wait(CONTACTS_OUTBOUND, reply.conversation_id, reply)
        finally:
            producer.close()
        # Never sent while the store of sent ids cannot record it.
        sent_to = f"/bot{BOT_TOKEN}/sendMessage"
        assert stub.wait_for(sent_to, 1, lambda r: r.body["chat_id"] == str(chat_id), timeout_s=3) == []
    finally:
        postgres_server.resume()
    assert post(second, update) == {"published": 1, "duplicates": 0, "skipped": 0}
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    assert len(inbound_events(topics, conversation, 1, settle_s=0.5)) == 1
    assert len(stub.wait_for(sent_to, 1, lambda r: r.body["chat_id"] == str(chat_id))) == 1
