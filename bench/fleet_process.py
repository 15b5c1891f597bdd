"""The agent fleet as seen from end_to_end: the `python -m bench.agent_fleet` process and the offers it reports."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path


class AgentFleet:
    """The load-generator process (`python -m bench.agent_fleet`) and the offers it reports."""

    def __init__(self, target: str, agents: int, think_ms: float, log_path: Path) -> None:
        self.offers_ns: dict[str, int] = {}
        self._arrived = threading.Condition()
        self._log = log_path.open("w")
        prefix = f"bench-{uuid.uuid4().hex[:6]}-"
        self.agent_ids = [f"{prefix}{index:05d}" for index in range(agents)]
        command = [sys.executable, "-m", "bench.agent_fleet", "--target", target, "--agents", str(agents)]
        self.process = subprocess.Popen(
            [*command, "--think-ms", str(think_ms), "--prefix", prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.ready = threading.Event()
        self.stats = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "offer":
                tag, _, received = rest.partition(" ")
                with self._arrived:
                    self.offers_ns.setdefault(tag, int(received))
                    self._arrived.notify_all()
            elif kind == "ready":
                self.ready.set()
            elif kind == "stats":
                self.stats = rest

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"agent fleet not ready; see {self._log.name}")

    def wait_offers(self, tags: set[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while not tags.issubset(self.offers_ns.keys()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._arrived.wait(min(left, 0.2))

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(5)
        self._log.close()
