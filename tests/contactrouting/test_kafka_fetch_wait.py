"""KAFKA_FETCH_MAX_WAIT_MS reaches the consumer: on tansu it bounds the latency of every Kafka hop."""

from __future__ import annotations

import pytest

from contactrouting.config import ServiceSettings, load_settings
from contactrouting.kafka_io import ProtoConsumer
from contactrouting.topics import CONTACTS_INBOUND
from contactrouting.v1 import contact_pb2


def test_the_default_is_kafkas_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_FETCH_MAX_WAIT_MS", raising=False)
    assert load_settings(ServiceSettings).kafka_fetch_max_wait_ms == 500


def test_the_consumer_uses_the_configured_fetch_wait(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_FETCH_MAX_WAIT_MS", "20")
    settings = load_settings(ServiceSettings).model_copy(update={"kafka_bootstrap_servers": kafka_bootstrap})
    consumer = ProtoConsumer(settings, {CONTACTS_INBOUND: contact_pb2.ContactEvent}, client_id="test", subscribe=False)
    try:
        assert consumer.raw_consumer.config["fetch_max_wait_ms"] == 20
    finally:
        consumer.close()
