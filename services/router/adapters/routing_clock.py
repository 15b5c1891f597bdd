"""The engine's heartbeat: a thread that ticks it (offer timeouts, relaxation, aging, escalation) and reloads
the routing policy when its file changes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import structlog

from services.router.adapters.switchboard import Switchboard
from services.router.domain import PolicyError, load_policy

log = structlog.get_logger()


class PolicyWatch:
    """Reloads the policy when the file's mtime or size changes; an invalid file is logged and ignored."""

    def __init__(self, path: Path, switchboard: Switchboard) -> None:
        self._path = path
        self._switchboard = switchboard
        self._signature = self._current_signature()

    def _current_signature(self) -> tuple[int, int] | None:
        try:
            stat = self._path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def check(self) -> bool:
        """True when a changed policy was loaded and is now in force."""
        signature = self._current_signature()
        if signature is None or signature == self._signature:
            return False
        self._signature = signature
        try:
            policy = load_policy(self._path)
        except PolicyError as error:
            log.error("routing_policy_rejected", path=str(self._path), error=str(error))
            return False
        self._switchboard.replace_policy(policy)
        log.info("routing_policy_reloaded", path=str(self._path), queues=[queue.name for queue in policy.queues])
        return True


class RoutingClock:
    def __init__(
        self, switchboard: Switchboard, tick_interval_s: float, policy_watch: PolicyWatch, policy_check_s: float
    ) -> None:
        self._switchboard = switchboard
        self._tick_interval_s = tick_interval_s
        self._policy_watch = policy_watch
        self._policy_check_s = policy_check_s

    def run(self, halt: threading.Event) -> None:
        next_policy_check = time.monotonic() + self._policy_check_s
        while not halt.wait(self._tick_interval_s):
            self._switchboard.tick()
            if time.monotonic() >= next_policy_check:
                self._policy_watch.check()
                next_policy_check = time.monotonic() + self._policy_check_s
