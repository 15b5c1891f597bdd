"""Kafka clients over TLS and SASL/SCRAM against a real tansu broker, each test with its own broker.

tansu 0.6.0 cannot serve TLS itself (its --cert and --key exclude each other), so `EmbeddedBroker(tls=...)` puts a
TLS terminator in front of it: the clients do a real TLS handshake, verify the certificate against the test CA and
check the name `localhost`, and a client that does not speak TLS never reaches the broker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from pydantic import SecretStr
from support.pki import write_pki

from contactrouting.config import ServiceSettings
from contactrouting.kafka_io import ProtoConsumer, ProtoProducer
from contactrouting.kafka_security import kafka_client_options
from contactrouting.topics import CONTACTS_INBOUND, ensure_topics
from contactrouting.v1 import contact_pb2
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from devstack.readiness import wait_for_grpc_health
from devstack.stack import ServiceProcess

pytestmark = pytest.mark.integration

# Fail fast: a refused client must be seen in seconds, not after kafka-python's default 30 s bootstrap.
_QUICK = {"request_timeout_ms": 3000, "bootstrap_timeout_ms": 4000}


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    directory = tmp_path / "pki"
    directory.mkdir()
    return write_pki(directory, "localhost", "client")


def _broker(tmp_path: Path, pki: Path, *, authentication: bool = False) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(
        free_port(),
        tmp_path / "tansu.log",
        tls=(pki / "localhost.crt", pki / "localhost.key"),
        authentication=authentication,
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Path) -> Iterator[EmbeddedBroker]:
    yield from _broker(tmp_path, pki)


@pytest.fixture
def scram_broker(tmp_path: Path, pki: Path) -> Iterator[EmbeddedBroker]:
    yield from _broker(tmp_path, pki, authentication=True)


def _ssl_settings(broker: EmbeddedBroker, pki: Path) -> ServiceSettings:
    return ServiceSettings(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=pki / "ca.crt",
    )


def test_a_proto_round_trip_over_tls_verified_against_the_ca(tls_broker: EmbeddedBroker, pki: Path) -> None:
    settings = _ssl_settings(tls_broker, pki)
    ensure_topics(tls_broker.bootstrap_servers, 1, 1, client_options=kafka_client_options(settings))
    producer = ProtoProducer(settings, client_id="test-tls")
    try:
        sent = contact_pb2.ContactEvent(event_id="e-tls", conversation_id="c-tls", subject="over TLS")
        producer.publish_and_wait(CONTACTS_INBOUND, "c-tls", sent)
    finally:
        producer.close()
    consumer = ProtoConsumer(settings, {CONTACTS_INBOUND: contact_pb2.ContactEvent}, client_id="t", subscribe=False)
    try:
        records = list(consumer.read_to_end(timeout_s=15))
    finally:
        consumer.close()
    assert [(record.key, record.message) for record in records] == [("c-tls", sent)]


def test_a_plaintext_client_is_refused_by_the_tls_listener(tls_broker: EmbeddedBroker) -> None:
    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=tls_broker.bootstrap_servers, **_QUICK)


def test_a_broker_certificate_from_another_ca_is_refused(tls_broker: EmbeddedBroker, tmp_path: Path) -> None:
    other = tmp_path / "other-pki"
    other.mkdir()
    write_pki(other)
    settings = ServiceSettings(
        kafka_bootstrap_servers=tls_broker.bootstrap_servers,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=other / "ca.crt",
    )
    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=tls_broker.bootstrap_servers, **kafka_client_options(settings), **_QUICK)


def test_mutual_tls_presents_the_client_certificate(tmp_path: Path, pki: Path) -> None:
    broker = EmbeddedBroker(
        free_port(),
        tmp_path / "tansu.log",
        tls=(pki / "localhost.crt", pki / "localhost.key"),
        tls_client_ca=pki / "ca.crt",
    )
    broker.start()
    try:
        with_certificate = ServiceSettings(
            kafka_bootstrap_servers=broker.bootstrap_servers,
            kafka_security_protocol="SSL",
            kafka_ssl_cafile=pki / "ca.crt",
            kafka_ssl_certfile=pki / "client.crt",
            kafka_ssl_keyfile=pki / "client.key",
        )
        admin = KafkaAdminClient(
            bootstrap_servers=broker.bootstrap_servers, **kafka_client_options(with_certificate), **_QUICK
        )
        try:
            assert isinstance(admin.list_topics(), list)
        finally:
            admin.close()
        without = kafka_client_options(_ssl_settings(broker, pki))
        with pytest.raises(KafkaError):
            KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers, **without, **_QUICK).list_topics()
    finally:
        broker.stop()


def test_scram_over_tls_runs_the_exchange_and_a_wrong_password_is_refused(
    scram_broker: EmbeddedBroker, pki: Path
) -> None:
    settings = ServiceSettings(
        kafka_bootstrap_servers=scram_broker.bootstrap_servers,
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_cafile=pki / "ca.crt",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="router",
        kafka_sasl_password=SecretStr("not-the-password"),
    )
    started = time.monotonic()
    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=scram_broker.bootstrap_servers, **kafka_client_options(settings), **_QUICK)
    assert time.monotonic() - started < 30
    # Without credentials the authenticating broker refuses every request (tansu answers NotAuthenticated).
    with pytest.raises(KafkaError):
        tls_only = kafka_client_options(settings.model_copy(update={"kafka_security_protocol": "SSL"}))
        KafkaAdminClient(bootstrap_servers=scram_broker.bootstrap_servers, **tls_only, **_QUICK).list_topics()


def test_the_router_reaches_serving_over_tls_with_the_env_vars_alone(
    tls_broker: EmbeddedBroker, pki: Path, tmp_path: Path
) -> None:
    ensure_topics(
        tls_broker.bootstrap_servers, 1, 1, client_options=kafka_client_options(_ssl_settings(tls_broker, pki))
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KAFKA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=tls_broker.bootstrap_servers,
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CAFILE=str(pki / "ca.crt"),
        ROUTER_GRPC_PORT=str(port),
        DATA_DIR=str(tmp_path / "data"),
        TRACE_DIR=str(tmp_path / "traces"),
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    router = ServiceProcess("router", "services.router", env, tmp_path / "router.log")
    router.start()
    try:
        # SERVING only once the agents.profiles table has been read to its end: the router's Kafka clients work.
        wait_for_grpc_health(f"127.0.0.1:{port}", "contactrouting.v1.AgentDesk", timeout_s=60)
        assert router.running
    except Exception:
        print(router.log_path.read_text())
        raise
    finally:
        router.stop()
