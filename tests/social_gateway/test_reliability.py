"""Delivery guarantees against real processes: Kafka outages answer 503, dedupe survives restarts, limits hold."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from contactrouting.survey_scales import rating_link
from contactrouting.survey_tickets import issue_ticket
from contactrouting.topics import CONTACTS_FEEDBACK, ensure_topics
from contactrouting.v1 import contact_pb2, feedback_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from services.social_gateway.domain.contact_events import conversation_id
from services.social_gateway.domain.messages import Platform

from .conftest import DEMO_CONFIG, http, inbound_events, read_topic, start_gateway

# Platform timestamps a minute old: well inside the gateway's replay window.
SENT_AT = int(time.time()) - 60

pytestmark = pytest.mark.integration

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"}


def config_with(tmp_path: Path, **limits: Any) -> Path:
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["limits"].update(limits)
    path = tmp_path / "social_gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def update(chat_id: int, message_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": random.randint(1, 10**9),
        "message": {
            "message_id": message_id,
            "date": SENT_AT,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
            "text": "Hello, my parcel has not arrived yet.",
        },
    }


def test_a_kafka_outage_gives_503_and_the_retry_publishes_once_after_recovery(tmp_path: Path) -> None:
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
    gateway = start_gateway(
        tmp_path / "gateway", broker.bootstrap_servers, config=config_with(tmp_path, publish_timeout_s=2)
    )
    url = f"{gateway.url}/webhooks/telegram/demo-bot"
    chat_id = random.randint(10**8, 10**9)
    try:
        assert http.post(url, json=update(chat_id, 1), headers=SECRET).status_code == 200

        broker.stop()
        delivery = update(chat_id, 2)
        during = http.post(url, json=delivery, headers=SECRET)
        assert during.status_code == 503

        broker.start()
        ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
        # The platform retries the same delivery until it gets a 200.
        statuses = []
        for _ in range(20):
            retry = http.post(url, json=delivery, headers=SECRET)
            statuses.append(retry.status_code)
            if retry.status_code == 200:
                break
        assert statuses[-1] == 200, statuses
        conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
        events = inbound_events(broker.bootstrap_servers, conversation, 1, settle_s=1.0)
        # The broker kept nothing across its restart: only the retried message is there, under one event id.
        assert {event.source.platform_message_id for event in events} == {"2"}
        assert len({event.event_id for event in events}) == 1
    finally:
        gateway.stop()
        broker.stop()


def test_a_rating_link_during_a_kafka_outage_records_nothing_and_counts_once_clicked_again(tmp_path: Path) -> None:
    secret = "feedback-secret-for-outage-test"
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
    gateway = start_gateway(
        tmp_path / "gateway",
        broker.bootstrap_servers,
        config=config_with(tmp_path, publish_timeout_s=2),
        extra_env={"FEEDBACK_TOKEN_SECRET": secret},
    )
    ticket = feedback_pb2.SurveyTicket(
        survey_id="survey-outage", contact_id="contact-outage", language="sk", scales=[contact_pb2.SURVEY_SCALE_CSAT]
    )
    ticket.expires_at.FromSeconds(int(time.time()) + 3600)
    link = rating_link(gateway.url, issue_ticket(ticket, secret), contact_pb2.SURVEY_SCALE_CSAT, 5)
    try:
        broker.stop()
        during = http.get(link)
        assert during.status_code == 503
        assert "Vaše hodnotenie sa teraz nepodarilo zaznamenať." in during.text

        broker.start()
        ensure_topics(broker.bootstrap_servers, partitions=1, replication_factor=1)
        # Nothing was recorded as answered: the customer's next click counts.
        statuses = []
        for _ in range(20):
            statuses.append(http.get(link).status_code)
            if statuses[-1] != 503:
                break
        assert statuses[-1] == 200, statuses
        events = read_topic(
            broker.bootstrap_servers,
            CONTACTS_FEEDBACK,
            feedback_pb2.FeedbackEvent,
            keep=lambda record: record.key == "contact-outage",
            until=lambda found: len(found) >= 1,
            settle_s=1.0,
        )
        assert [(event.survey_id, event.rating) for event in events] == [("survey-outage", 5)]
        assert http.get(link).status_code == 409
    finally:
        gateway.stop()
        broker.stop()


def test_dedupe_survives_a_gateway_restart(topics: str, tmp_path: Path) -> None:
    chat_id = random.randint(10**8, 10**9)
    delivery = update(chat_id)
    first = start_gateway(tmp_path, topics)
    try:
        response = http.post(f"{first.url}/webhooks/telegram/demo-bot", json=delivery, headers=SECRET)
        assert response.json()["published"] == 1
    finally:
        assert first.stop() == 0
    second = start_gateway(tmp_path, topics)
    try:
        response = http.post(f"{second.url}/webhooks/telegram/demo-bot", json=delivery, headers=SECRET)
        assert response.json() == {"published": 0, "duplicates": 1, "skipped": 0}
    finally:
        second.stop()
    conversation = conversation_id(Platform.TELEGRAM, "demo-bot", str(chat_id))
    assert len(inbound_events(topics, conversation, 1, settle_s=0.5)) == 1


def test_a_source_over_its_rate_gets_429_with_retry_after(topics: str, tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, topics, config=config_with(tmp_path, rate_per_s=0.5, rate_burst=3))
    try:
        statuses = [
            http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json={"update_id": 1}).status_code for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        refused = http.post(f"{gateway.url}/webhooks/meta", content=b"{}")
        assert refused.status_code == 401  # another endpoint has its own bucket
        limited = http.post(f"{gateway.url}/webhooks/telegram/demo-bot", json={"update_id": 1})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "2"
    finally:
        gateway.stop()


def test_demo_secrets_are_refused_outside_demo_mode(topics: str, tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, topics, demo_mode=False, wait=False)
    assert gateway.process.wait(timeout=30) == 2
    log = gateway.log_file.read_text()
    assert "refusing to start" in log
    assert "telegram.bots.demo-bot.secret_token" in log
    assert "demo-telegram-secret" not in log
