"""The services under gRPC fuzzing, run as real processes on free ports, and their logs watched for errors."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import REPO_ROOT, Stack, StackPorts

_ERROR_MARKS = ('"level": "error"', '"level": "critical"', "Traceback (most recent call last)")


class LogWatch:
    """New error lines in a service's log since the last look (structlog JSON errors, uncaught tracebacks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = path.stat().st_size if path.exists() else 0

    def new_errors(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        self._offset += len(chunk)
        lines = chunk.decode("utf-8", "replace").splitlines()
        return [line for line in lines if any(mark in line for mark in _ERROR_MARKS)]


@contextmanager
def running_services(*names: str) -> Iterator[Stack]:
    """A broker and the named services (plus the demo agents once skills runs), stopped and removed afterwards."""
    var_dir = Path(tempfile.mkdtemp(prefix="fuzz-stack-"))
    stack = Stack(var_dir, StackPorts.free(), progress=lambda line: print(f"  stack: {line}", flush=True))
    try:
        assert stack.broker is not None
        stack.broker.start()
        from contactrouting.topics import ensure_topics

        ensure_topics(stack.kafka_bootstrap, partitions=3, replication_factor=1)
        for name in names:
            stack.start_service(name)
        for name in names:
            stack.wait_ready(name)
        if "skills" in names:
            stack.load_agents(REPO_ROOT / "config" / "demo_agents.yaml")
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
