"""py-spy profiles of the platform's processes while end_to_end drives them (BENCH_PROFILE_DIR=<dir>).

py-spy samples a running process from outside, so the services run unmodified. It is not a dependency of the
project: `.venv/bin/pip install py-spy` to use this; without it the benchmark runs and says it did not profile.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def py_spy() -> str | None:
    beside_python = Path(sys.executable).with_name("py-spy")
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


class Profiles:
    """One `py-spy record` per process for the duration of a measurement, written as collapsed stacks."""

    def __init__(self, out_dir: Path, pids: Mapping[str, int], seconds: float) -> None:
        self.out_dir = out_dir
        self.pids = dict(pids)
        self.seconds = seconds
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> bool:
        binary = py_spy()
        if binary is None:
            return False
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            command = [
                binary,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(self.seconds))),
                "--rate",
                "250",
            ]
            # --gil: only samples holding the GIL, i.e. Python work, not threads parked in select or a queue.
            command += ["--gil", "--full-filenames", "--format", "raw", "--nonblocking"]
            command += ["--output", str(self.out_dir / f"{name}.txt")]
            self._running[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return True

    def finish(self, top: int = 8) -> dict[str, Summary]:
        """Waits for the recordings; returns, per process, where its Python time went."""
        summaries: dict[str, Summary] = {}
        for name, process in self._running.items():
            process.wait(timeout=self.seconds + 30)
            path = self.out_dir / f"{name}.txt"
            if path.exists():
                summaries[name] = summarize(path.read_text(), top)
        return summaries


@dataclass(frozen=True)
class Summary:
    """Shares of GIL-holding samples: by the package of the leaf frame, and the leaf frames themselves."""

    samples: int
    packages: list[tuple[str, float]]
    frames: list[tuple[str, float]]


def summarize(collapsed: str, top: int) -> Summary:
    """Reads py-spy's collapsed format: one `frame;frame;leaf <count>` line per distinct stack."""
    packages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        leaf = stack.rsplit(";", 1)[-1]
        packages[package_of(leaf)] += samples
        leaves[_short(leaf)] += samples

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(key, 100.0 * n / total) for key, n in counter.most_common(top)] if total else []

    return Summary(total, shares(packages), shares(leaves))


def package_of(frame: str) -> str:
    """`function (/path/file.py:line)` -> the installed package, our package, or `stdlib <module>`."""
    path = frame.rpartition(" (")[2].rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    for ours in ("services", "contactrouting", "bench", "devstack"):
        if ours in parts:
            index = parts.index(ours)
            return ".".join(parts[index : index + 2]) if ours == "services" else ours
    if "lib" in parts and len(parts) > parts.index("lib") + 2:
        return "stdlib " + parts[parts.index("lib") + 2].removesuffix(".py")
    return path or "?"


def _short(frame: str) -> str:
    function, _, location = frame.rpartition(" (")
    path, _, line = location.rstrip(")").rpartition(":")
    return f"{function} ({'/'.join(Path(path).parts[-2:])}:{line})"


def describe(summaries: Mapping[str, Summary]) -> str:
    lines = []
    for name, summary in summaries.items():
        lines.append(f"  {name} ({summary.samples} samples holding the GIL), by package:")
        lines.append("    " + ", ".join(f"{package} {share:.0f}%" for package, share in summary.packages))
        lines.extend(f"    {share:5.1f}%  {frame}" for frame, share in summary.frames)
    return "\n".join(lines)
