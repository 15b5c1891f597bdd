"""Fixtures for the router adapters' tests: a broker of the module's own, routers as subprocesses, desks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from contactrouting.topics import ensure_topics
from devstack.broker import EmbeddedBroker
from devstack.ports import free_port

from .harness import Desk, Kafka, RouterUnderTest


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: topic names are fixed, and a router elsewhere in the session (the stack's)
    would otherwise consume our contacts. An external Kafka named by KAFKA_BOOTSTRAP_SERVERS is used as is."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        ensure_topics(external, partitions=3, replication_factor=1)
        yield external
        return
    embedded = EmbeddedBroker(port=free_port(), log_path=tmp_path_factory.mktemp("broker") / "tansu.log")
    embedded.start()
    try:
        ensure_topics(embedded.bootstrap_servers, partitions=3, replication_factor=1)
        yield embedded.bootstrap_servers
    finally:
        embedded.stop()


@pytest.fixture
def router_factory(broker: str, tmp_path: Path) -> Iterator[Callable[..., RouterUnderTest]]:
    routers: list[RouterUnderTest] = []

    def make(**options: Any) -> RouterUnderTest:
        router = RouterUnderTest(broker, tmp_path, **options)
        routers.append(router)
        return router

    yield make
    for router in routers:
        router.stop()


@pytest.fixture
def desks() -> Iterator[Callable[[str, str], Desk]]:
    opened: list[Desk] = []

    def connect(target: str, agent_id: str) -> Desk:
        desk = Desk(target, agent_id)
        opened.append(desk)
        return desk

    yield connect
    for desk in opened:
        desk.close()


@pytest.fixture
def kafka(broker: str) -> Iterator[Kafka]:
    client = Kafka(broker)
    yield client
    client.close()
