"""Where a contact's time goes, read from the spans the services write to TRACE_DIR (one JSON span per line).

Diagnostic only: it relies on the services' span names, and prints nothing for stages whose spans it cannot find.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from bench.stats import percentile

# The spans that mark each stage, per service (names as the services emit them).
RECEIVE = {"email_gateway": "email receive", "social_gateway": "POST /webhooks/meta"}
PUBLISH = "contacts.inbound publish"
ENQUEUE = ("router", "router enqueue")
OFFER = ("router", "router offer")


def stage_latencies(trace_dir: Path, window_ns: tuple[int, int]) -> dict[str, list[float]]:
    """Milliseconds per stage and channel, for contacts received within the window whose spans are all found."""
    spans: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
    for path in trace_dir.glob("*.jsonl"):
        for line in path.read_text(errors="replace").splitlines():
            try:
                span = json.loads(line)
                spans[span["trace_id"]].setdefault((span["service"], span["name"]), span)
            except (ValueError, KeyError, TypeError):
                continue
    stages: dict[str, list[float]] = defaultdict(list)
    for trace in spans.values():
        for service, receive_name in RECEIVE.items():
            receive, publish = trace.get((service, receive_name)), trace.get((service, PUBLISH))
            enqueue, offer = trace.get(ENQUEUE), trace.get(OFFER)
            if not (receive and publish and enqueue and offer):
                continue
            if not window_ns[0] <= receive["start_ns"] <= window_ns[1]:
                continue
            ms = [
                ("gateway: receive to publish", receive["start_ns"], publish["start_ns"]),
                ("gateway: whole request", receive["start_ns"], receive["end_ns"]),
                ("kafka + router poll: publish to enqueue", publish["start_ns"], enqueue["start_ns"]),
                ("router: enqueue to offer sent", enqueue["start_ns"], offer["end_ns"]),
            ]
            for stage, start, end in ms:
                stages[f"{service:<15} {stage}"].append((end - start) / 1e6)
    return stages


def describe(trace_dir: Path, window_ns: tuple[int, int]) -> str:
    lines = []
    for stage, values in sorted(stage_latencies(trace_dir, window_ns).items()):
        p50, p90, p99 = (percentile(values, q) for q in (0.5, 0.9, 0.99))
        lines.append(f"  {stage:<60} p50 {p50:7.1f}  p90 {p90:7.1f}  p99 {p99:7.1f} ms  (n={len(values)})")
    return "\n".join(lines)
