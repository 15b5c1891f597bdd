"""CPU time used by each process of the platform over a measurement, to show which one limits throughput."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux /proc); 0.0 when it is gone or /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def pid_listening_on(url_fragment: str) -> int | None:
    """The process whose command line names `url_fragment` (e.g. the broker's tcp://127.0.0.1:PORT)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if url_fragment.encode() in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


class CpuMeter:
    """Samples CPU time of named processes at start and stop; reports each as % of one core."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._started_at = 0.0
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._started_at = time.monotonic()
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._started_at
        return {
            name: 100.0 * (cpu_seconds(pid) - self._start[name]) / elapsed if elapsed > 0 else 0.0
            for name, pid in self.pids.items()
        }


def describe(usage: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {percent:.0f}%" for name, percent in sorted(usage.items(), key=lambda kv: -kv[1]))
