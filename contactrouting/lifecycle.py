"""Process lifecycle: one stop event set by SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading


def install_stop_signal() -> threading.Event:
    stop = threading.Event()

    def _request_stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    return stop
