"""The broker a benchmark runs against: the one in KAFKA_BOOTSTRAP_SERVERS, or an embedded tansu on a free port."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.broker import EmbeddedBroker
from devstack.ports import free_port

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
# Set when the broker was started for this run: only then may a benchmark delete and recreate topics on it.
OWNED_ENV = "BENCH_BROKER_OWNED"


@contextmanager
def bench_broker(log_dir: Path | None = None) -> Iterator[str]:
    """Yields bootstrap servers and exports them in KAFKA_BOOTSTRAP_SERVERS, so every benchmark of a run (and the
    processes it starts) uses the same broker as the baseline."""
    external = os.environ.get(BOOTSTRAP_ENV)
    if external:
        yield external
        return
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="bench-broker-"))
    broker = EmbeddedBroker(port=free_port(), log_path=log_dir / "tansu.log")
    broker.start()
    os.environ[BOOTSTRAP_ENV] = broker.bootstrap_servers
    os.environ[OWNED_ENV] = "1"
    try:
        yield broker.bootstrap_servers
    finally:
        os.environ.pop(BOOTSTRAP_ENV, None)
        os.environ.pop(OWNED_ENV, None)
        broker.stop()
