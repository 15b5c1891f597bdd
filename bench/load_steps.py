"""Stepped, open-loop load on the platform: one step at a fixed rate, and the search for saturation."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.contact_feed import ContactFeed, StepLog
from bench.cpu_meter import CpuMeter, describe
from bench.fleet_process import AgentFleet
from bench.standalone import progress
from bench.stats import percentile, rate


@dataclass(frozen=True)
class Size:
    """How big a run is: agents, their think time, and the steps' first rate, growth and length."""

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


def warm_up(feed: ContactFeed, fleet: AgentFleet, size: Size) -> None:
    """First contacts pay one-off costs (the router's consumer-group join, producers' metadata, connections):
    they are sent and offered before anything is measured."""
    log = feed.run(10, 2)
    fleet.wait_offers(set(log.sent_ns), 60)
    missing = len(set(log.sent_ns) - fleet.offers_ns.keys())
    if log.failures or missing:
        raise RuntimeError(f"warm-up failed: {missing} contacts never offered, failures {log.failures}")
    progress(f"end_to_end: warm-up: {len(log.sent_ns)} contacts sent and offered")


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
