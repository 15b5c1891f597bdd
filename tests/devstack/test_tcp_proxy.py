"""The proxy that chaos tests use to make the broker unreachable: Kafka traffic flows, stops and flows again."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from devstack.broker import EmbeddedBroker
from devstack.ports import free_port
from devstack.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


def test_cut_makes_the_broker_unreachable_and_restore_brings_it_back(tmp_path) -> None:
    proxy_port = free_port()
    broker = EmbeddedBroker(free_port(), tmp_path / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TcpProxy(proxy_port, broker.port)
    proxy.start()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, max_block_ms=3000, request_timeout_ms=2000)
    try:
        assert producer.send("proxy-test", b"before", partition=0).get(timeout=10).offset == 0
        proxy.cut()
        with pytest.raises(KafkaError):
            producer.send("proxy-test", b"during", partition=0).get(timeout=4)
        proxy.restore()
        assert producer.send("proxy-test", b"after", partition=0).get(timeout=20).offset >= 1
    finally:
        producer.close(timeout=2)
        proxy.stop()
        broker.stop()
