"""Fixtures shared by every test package. Integration fixtures start real processes, never in-process fakes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.broker import EmbeddedBroker
from devstack.ports import free_port


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker for the session: the one named by KAFKA_BOOTSTRAP_SERVERS, or an embedded tansu."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path_factory.mktemp("broker") / "tansu.log")
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()
