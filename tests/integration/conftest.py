"""The one fixture for tests that run the whole platform as separate processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack, StackPorts


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Broker (its own, unless KAFKA_BOOTSTRAP_SERVERS names one), skills, router, gateways and mail sink."""
    var_dir: Path = tmp_path_factory.mktemp("stack")
    platform = Stack(var_dir, StackPorts.free(), kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    try:
        platform.start()
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()
