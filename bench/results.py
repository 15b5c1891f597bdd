"""The results file: which figures each benchmark reports, checking them, and writing `bench/results.json`."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT / "bench" / "results.json"

# The benchmarks in run order, each with exactly the figures it must report (the names).
FIGURES: dict[str, tuple[str, ...]] = {
    "kafka_baseline": ("produce_per_s", "consume_per_s", "roundtrip_p50_ms", "roundtrip_p99_ms"),
    "router_core": (
        "decisions_per_s",
        "decision_p50_us",
        "decision_p99_us",
        "rss_mb",
        "bytes_per_agent",
        "bytes_per_waiting_contact",
    ),
    "email_gateway": ("per_s", "p50_ms", "p99_ms"),
    "social_gateway": ("per_s", "p50_ms", "p99_ms"),
    "end_to_end": (
        "sustained_contacts_per_s",
        "ingest_to_offer_p50_ms_at_50pct",
        "ingest_to_offer_p99_ms_at_50pct",
        "ingest_to_offer_p50_ms_at_90pct",
        "ingest_to_offer_p99_ms_at_90pct",
        "ratio_to_kafka_roundtrip",
    ),
}
BENCHMARKS: tuple[str, ...] = tuple(FIGURES)
RUN_KEYS: tuple[str, ...] = ("machine", "git_sha", "started_at")


class IncompleteResult(ValueError):
    """A benchmark returned figures that are missing, extra or not finite numbers."""


@dataclass(frozen=True)
class RunInfo:
    """What every entry carries so a figure can be traced to the machine and commit that produced it."""

    machine: dict[str, Any]
    git_sha: str
    started_at: str

    @classmethod
    def now(cls) -> RunInfo:
        return cls(
            machine={
                "cores": os.cpu_count() or 0,
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
                # Shared machines are noisy: the load when the benchmark started tells how far to trust it.
                "load_average_1m": round(os.getloadavg()[0], 2),
            },
            git_sha=_git_sha(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "git_sha": self.git_sha, "started_at": self.started_at}


def _git_sha() -> str:
    """HEAD (with -dirty for uncommitted changes), or BENCH_GIT_SHA when run from an export without .git."""
    if os.environ.get("BENCH_GIT_SHA"):
        return os.environ["BENCH_GIT_SHA"]
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    sha = result.stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "."], cwd=REPO_ROOT, timeout=10).returncode
    return f"{sha}-dirty" if dirty else sha


def figures_of(name: str, reported: Mapping[str, Any]) -> dict[str, float]:
    """Exactly the figures the issue names for `name`, as floats; raises IncompleteResult otherwise."""
    expected = FIGURES[name]
    missing = [key for key in expected if key not in reported]
    extra = sorted(set(reported) - set(expected))
    bad = [
        key
        for key in expected
        if key in reported
        and (
            isinstance(reported[key], bool)
            or not isinstance(reported[key], int | float)
            or not math.isfinite(reported[key])
        )
    ]
    if missing or extra or bad:
        raise IncompleteResult(f"{name}: missing {missing}, unexpected {extra}, not finite numbers {bad}")
    return {key: float(reported[key]) for key in expected}


def entry(name: str, reported: Mapping[str, Any], run: RunInfo) -> dict[str, Any]:
    return {**figures_of(name, reported), **run.as_dict()}


def error_entry(name: str, error: str, run: RunInfo) -> dict[str, Any]:
    """A benchmark that could not produce figures: recorded, never filled in with made-up numbers."""
    return {"error": error, **run.as_dict()}


def problems(results: Mapping[str, Any], names: tuple[str, ...] = BENCHMARKS) -> list[str]:
    """Everything that keeps `results` from being complete and well-formed; empty when it is."""
    found: list[str] = []
    for name in names:
        item = results.get(name)
        if not isinstance(item, dict):
            found.append(f"{name}: absent")
            continue
        if "error" in item:
            found.append(f"{name}: error: {item['error']}")
            continue
        figures = {key: value for key, value in item.items() if key not in RUN_KEYS}
        try:
            figures_of(name, figures)
        except IncompleteResult as error:
            found.append(str(error))
        machine = item.get("machine")
        if not (isinstance(machine, dict) and isinstance(machine.get("cores"), int) and machine.get("python")):
            found.append(f"{name}: machine must name cores and python")
        if not (isinstance(item.get("git_sha"), str) and item["git_sha"]):
            found.append(f"{name}: git_sha missing")
        try:
            datetime.fromisoformat(str(item.get("started_at")))
        except ValueError:
            found.append(f"{name}: started_at is not an ISO timestamp")
    return found


def load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}


def write(path: Path, results: Mapping[str, Any]) -> None:
    """Benchmarks in run order; written atomically so a reader never sees half a file."""
    ordered = {name: results[name] for name in BENCHMARKS if name in results}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(ordered, indent=2) + "\n")
    tmp.replace(path)
