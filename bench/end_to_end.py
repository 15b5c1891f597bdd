"""The whole platform as separate processes: contacts in over SMTP and signed webhooks, offers out to gRPC agents.

Steps of rising fixed rate find saturation; then the latency from sending a contact to its offer reaching the
agent's process is measured at 50 % and 90 % of the sustained rate. See bench/README.md for the definitions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.broker import BOOTSTRAP_ENV
from bench.contact_feed import ContactFeed, FeedTarget, StepLog
from bench.cpu_meter import CpuMeter, describe, pid_listening_on
from bench.platform_under_test import BenchStack, provision_agents, recreate_topics
from bench.profiles import Profiles
from bench.profiles import describe as describe_profiles
from bench.standalone import main, progress
from bench.stats import percentile, rate
from bench.trace_stages import describe as describe_stages

BASELINE_ENV = "BENCH_KAFKA_CONSUME_PER_S"
PROFILE_ENV = "BENCH_PROFILE_DIR"
PROFILED = ("router", "email_gateway", "social_gateway")


@dataclass(frozen=True)
class Size:
    agents: int
    think_ms: float
    first_rate: float
    growth: float
    step_s: float
    drain_s: float
    feeders_per_channel: int


FULL = Size(agents=500, think_ms=50, first_rate=20, growth=1.5, step_s=8, drain_s=5, feeders_per_channel=32)
QUICK = Size(agents=50, think_ms=50, first_rate=40, growth=2.0, step_s=1.5, drain_s=2, feeders_per_channel=24)
MIN_RATE, MAX_RATE = 2.0, 20_000.0
# A step is kept up with when the client sent at >= 95 % of the rate, >= 99 % of its contacts reached an agent,
# and their p99 latency stayed under this bound: a backlog growing for a whole step blows through it.
KEPT_UP_P99_MS = 1_000.0


class AgentFleet:
    """The load-generator process (`python -m bench.agent_fleet`) and the offers it reports."""

    def __init__(self, target: str, size: Size, log_path: Path) -> None:
        self.offers_ns: dict[str, int] = {}
        self._arrived = threading.Condition()
        self._log = log_path.open("w")
        prefix = f"bench-{uuid.uuid4().hex[:6]}-"
        self.agent_ids = [f"{prefix}{index:05d}" for index in range(size.agents)]
        command = [sys.executable, "-m", "bench.agent_fleet", "--target", target, "--agents", str(size.agents)]
        self.process = subprocess.Popen(
            [*command, "--think-ms", str(size.think_ms), "--prefix", prefix],
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


@dataclass(frozen=True)
class StepResult:
    rate: float
    sent: int
    send_rate: float
    offered: int
    failures: dict[str, int]
    p50_ms: float
    p99_ms: float
    cpu: dict[str, float]
    # First and last send (epoch ns), to find the step's spans in the services' traces.
    window_ns: tuple[int, int]

    @property
    def kept_up(self) -> bool:
        return (
            self.send_rate >= 0.95 * self.rate
            and self.offered >= 0.99 * self.sent
            and not self.failures
            and self.p99_ms <= KEPT_UP_P99_MS
        )

    def line(self) -> str:
        failed = f", failed {self.failures}" if self.failures else ""
        return (
            f"{self.rate:7.0f}/s: sent {self.sent} at {self.send_rate:.0f}/s, {self.offered} offered to agents, "
            f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms{failed} -> {'ok' if self.kept_up else 'SATURATED'}"
            f"\n        CPU while sending (% of one core): {describe(self.cpu)}"
        )


def run_step(
    feed: ContactFeed, fleet: AgentFleet, step_rate: float, size: Size, seconds: float, meter: CpuMeter
) -> StepResult:
    meter.start()
    log: StepLog = feed.run(step_rate, seconds)
    cpu = meter.stop()
    fleet.wait_offers(set(log.sent_ns), size.drain_s)
    latencies = [(fleet.offers_ns[tag] - sent) / 1e6 for tag, sent in log.sent_ns.items() if tag in fleet.offers_ns]
    sent = len(log.sent_ns)
    # Late offers count as infinitely slow for the percentiles, so a step never looks better by losing contacts.
    padded = latencies + [float("inf")] * (sent - len(latencies))
    send_rate = rate(sent - 1, (log.last_ns - log.first_ns) / 1e9) if sent > 1 else 0.0
    return StepResult(
        rate=step_rate,
        sent=sent,
        send_rate=send_rate,
        offered=len(latencies),
        failures=log.failures,
        p50_ms=percentile(padded, 0.50) if padded else float("inf"),
        p99_ms=percentile(padded, 0.99) if padded else float("inf"),
        cpu=cpu,
        window_ns=(log.first_ns, log.last_ns),
    )


def settle(fleet: AgentFleet, timeout_s: float) -> None:
    """Lets a saturated step's backlog reach the agents before the next measurement starts."""
    deadline = time.monotonic() + timeout_s
    seen = -1
    while time.monotonic() < deadline and len(fleet.offers_ns) != seen:
        seen = len(fleet.offers_ns)
        time.sleep(1.0)


def kafka_consume_per_s(bootstrap: str, quick: bool) -> float:
    """The run's baseline when the runner handed it over; measured on this broker when run on its own."""
    if BASELINE_ENV in os.environ:
        return float(os.environ[BASELINE_ENV])
    from bench import kafka_baseline

    progress("end_to_end: no baseline handed over; measuring the Kafka consume rate first")
    records = (kafka_baseline.QUICK if quick else kafka_baseline.FULL)["records"]
    return kafka_baseline.measure_throughput(bootstrap, records)[1]


def run(quick: bool) -> dict[str, float]:
    size = QUICK if quick else FULL
    bootstrap = os.environ[BOOTSTRAP_ENV]
    baseline = kafka_consume_per_s(bootstrap, quick)
    var_dir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    if recreate_topics(bootstrap):
        progress("end_to_end: pipeline topics recreated (empty) on the run's broker")
    else:
        progress("end_to_end: external broker: topics kept; earlier contacts in them may skew the figures")
    stack = BenchStack(var_dir, bootstrap, size.agents, lambda message: progress(f"end_to_end: {message}"))
    fleet: AgentFleet | None = None
    feed: ContactFeed | None = None
    at: dict[int, StepResult] = {}
    try:
        stack.start(load_demo_agents=False)
        fleet = AgentFleet(f"127.0.0.1:{stack.ports.router_grpc}", size, var_dir / "logs" / "agent_fleet.log")
        progress(f"end_to_end: provisioning {size.agents} agents through the skills service")
        provision_agents(f"127.0.0.1:{stack.ports.skills_grpc}", fleet.agent_ids)
        fleet.wait_ready(timeout_s=90)
        progress(f"end_to_end: {size.agents} agents available (think time {size.think_ms:.0f} ms)")
        feed = ContactFeed(
            FeedTarget(stack.ports.smtp, stack.ports.webhook, stack.meta_app_secret), size.feeders_per_channel
        )
        meter = CpuMeter(platform_pids(stack, fleet, bootstrap))
        warm_up(feed, fleet, size)
        sustained = find_saturation(feed, fleet, size, meter)
        if sustained <= 0:
            raise RuntimeError("the platform did not keep up with the first step")
        settle(fleet, 30)
        profile_dir = os.environ.get(PROFILE_ENV)
        if profile_dir:
            profile(feed, fleet, size, meter, sustained * 0.9, Path(profile_dir))
            settle(fleet, 30)
        for share in (50, 90):
            step = run_step(feed, fleet, sustained * share / 100, size, size.step_s, meter)
            progress(f"end_to_end: at {share} % of saturation: {step.line()}")
            at[share] = step
            settle(fleet, 10)
    finally:
        if feed is not None:
            feed.close()
        if fleet is not None:
            fleet.stop()
            progress(f"end_to_end: agent fleet: {fleet.stats or 'no stats'}")
        stack.stop()  # flushes the services' spans
        progress(f"end_to_end: service logs and traces in {var_dir}")
    for share, step in at.items():
        stages = describe_stages(var_dir / "traces", step.window_ns)
        progress(f"end_to_end: where the time went at {share} % (from the services' spans):\n{stages}")
    return {
        "sustained_contacts_per_s": round(sustained, 1),
        "ingest_to_offer_p50_ms_at_50pct": round(at[50].p50_ms, 2),
        "ingest_to_offer_p99_ms_at_50pct": round(at[50].p99_ms, 2),
        "ingest_to_offer_p50_ms_at_90pct": round(at[90].p50_ms, 2),
        "ingest_to_offer_p99_ms_at_90pct": round(at[90].p99_ms, 2),
        # Three significant digits: the ratio is small, and rounding to decimals would flatten it to zero.
        "ratio_to_kafka_roundtrip": float(f"{sustained / baseline:.3g}"),
    }


def warm_up(feed: ContactFeed, fleet: AgentFleet, size: Size) -> None:
    """First contacts pay one-off costs (the router's consumer-group join, producers' metadata, connections):
    they are sent and offered before anything is measured."""
    log = feed.run(10, 2)
    fleet.wait_offers(set(log.sent_ns), 60)
    missing = len(set(log.sent_ns) - fleet.offers_ns.keys())
    if log.failures or missing:
        raise RuntimeError(f"warm-up failed: {missing} contacts never offered, failures {log.failures}")
    progress(f"end_to_end: warm-up: {len(log.sent_ns)} contacts sent and offered")


def platform_pids(stack: BenchStack, fleet: AgentFleet, bootstrap: str) -> dict[str, int]:
    pids = {name: service.process.pid for name, service in stack.services.items() if service.process is not None}
    pids["agent_fleet"] = fleet.process.pid
    pids["load_client"] = os.getpid()
    broker = pid_listening_on(f"tcp://{bootstrap}")
    if broker is not None:
        pids["broker"] = broker
    return pids


def profile(feed: ContactFeed, fleet: AgentFleet, size: Size, meter: CpuMeter, at_rate: float, out: Path) -> None:
    """An extra, unreported step at 90 % of saturation with py-spy attached to the services."""
    pids = {name: pid for name, pid in meter.pids.items() if name in PROFILED}
    seconds = max(size.step_s, 5.0)
    profiles = Profiles(out, pids, seconds)
    if not profiles.start():
        progress("end_to_end: py-spy not found; not profiling (.venv/bin/pip install py-spy)")
        return
    step = run_step(feed, fleet, at_rate, size, seconds, meter)
    summary = describe_profiles(profiles.finish())
    progress(f"end_to_end: profiled step {step.line()}\n  top frames (self time), stacks in {out}:\n{summary}")


def find_saturation(feed: ContactFeed, fleet: AgentFleet, size: Size, meter: CpuMeter) -> float:
    """Raises the rate step by step until a step is not kept up with; returns the last rate that was. When even
    the first step is too fast (a loaded machine), halves it down to MIN_RATE first."""
    sustained, step_rate = 0.0, size.first_rate
    while MIN_RATE <= step_rate <= MAX_RATE:
        step = run_step(feed, fleet, step_rate, size, size.step_s, meter)
        progress(f"end_to_end: step {step.line()}")
        if step.kept_up:
            sustained = step.send_rate
            step_rate *= size.growth
        elif sustained:
            break
        else:
            settle(fleet, 30)
            step_rate /= 2
    return sustained


if __name__ == "__main__":
    main("end_to_end", run)
