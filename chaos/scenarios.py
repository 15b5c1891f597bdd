"""The fault scenarios. Each runs a fresh platform under load, injects its fault, and checks every contact."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chaos.agents import Behaviour
from chaos.platform import ChaosPlatform, Progress


@dataclass(frozen=True)
class Size:
    contacts: int
    rate: float
    settle_s: float

    @property
    def feed_s(self) -> float:
        return self.contacts / self.rate


FULL = Size(contacts=10_000, rate=200.0, settle_s=180.0)
QUICK = Size(contacts=600, rate=30.0, settle_s=90.0)


@dataclass
class ScenarioResult:
    name: str
    sent: int
    assigned: int
    duplicated: int
    lost: int
    max_recover_s: float
    retries: int
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.duplicated == 0 and self.lost == 0


Fault = Callable[[ChaosPlatform, Size, random.Random], list[float]]


def dependable(count: int) -> dict[str, Behaviour]:
    return {f"chaos-agent-{index:03d}": Behaviour.DEPENDABLE for index in range(count)}


def kill_router(platform: ChaosPlatform, size: Size, rng: random.Random) -> list[float]:
    """kill -9 the router three times at random moments, each after it recovered from the last;
    recovery = kill until the next accepted contact."""
    recoveries = []
    for fraction in sorted(rng.uniform(0.1, 0.7) for _ in range(3)):
        _sleep_until(platform, fraction * size.feed_s)
        recoveries.extend(_recoveries(platform, [platform.kill_and_restart("router")]))
    return recoveries


def kill_gateways(platform: ChaosPlatform, size: Size, rng: random.Random) -> list[float]:
    """kill -9 each gateway mid-traffic; senders see errors and retry; recovery = kill until ready again."""
    recoveries = []
    for service, fraction in (("email_gateway", rng.uniform(0.2, 0.4)), ("social_gateway", rng.uniform(0.5, 0.7))):
        _sleep_until(platform, fraction * size.feed_s)
        killed_at = platform.kill_and_restart(service)
        recoveries.append(time.time() - killed_at)
    return recoveries


def broker_outage(platform: ChaosPlatform, size: Size, rng: random.Random) -> list[float]:
    """The broker unreachable for 10 s (a TcpProxy cut); recovery = restore until the next accepted contact."""
    assert platform.proxy is not None
    _sleep_until(platform, rng.uniform(0.3, 0.5) * size.feed_s)
    platform.proxy.cut()
    platform.progress("broker unreachable")
    time.sleep(10)
    platform.proxy.restore()
    restored_at = time.time()
    platform.progress("broker reachable again")
    return _recoveries(platform, [restored_at])


def no_fault(platform: ChaosPlatform, size: Size, rng: random.Random) -> list[float]:
    """The fault is in the agents themselves (drops or silence)."""
    return []


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    agents: dict[str, Behaviour]
    fault: Fault
    behind_proxy: bool = False


SCENARIOS = (
    Scenario("router_kill9", "kill -9 the router 3 times under load", dependable(30), kill_router),
    Scenario("gateway_kill9", "kill -9 each gateway mid-request", dependable(30), kill_gateways),
    Scenario("broker_outage", "broker unreachable for 10 s", dependable(30), broker_outage, behind_proxy=True),
    Scenario(
        "agent_drops",
        "agent streams dropped mid-offer and mid-conversation",
        {**dependable(20), **{f"chaos-dropper-{i}": Behaviour.DROPPER for i in range(10)}},
        no_fault,
    ),
    Scenario(
        "slow_agent",
        "agents that never answer offers",
        {**dependable(25), **{f"chaos-silent-{i}": Behaviour.SILENT for i in range(5)}},
        no_fault,
    ),
)


def run_scenario(scenario: Scenario, size: Size, var_dir: Path, progress: Progress, seed: int) -> ScenarioResult:
    platform = ChaosPlatform(var_dir / scenario.name, progress, behind_proxy=scenario.behind_proxy)
    try:
        platform.start(scenario.agents)
        platform.feed(size.contacts, size.rate)
        recoveries = scenario.fault(platform, size, random.Random(seed))
        platform.wait_for_feed(timeout_s=size.feed_s + 300)
        report = platform.feed_report
        sent = set(report.acked)
        progress(f"{len(sent)} contacts acknowledged by the gateways ({report.retries} retries); checking")
        assert platform.ledger is not None and platform.pool is not None
        seen = platform.pool.seen
        platform.ledger.settle(sent, size.settle_s, seen.delivered_tags)
        verdict = platform.ledger.verdict(sent)
        notes = [f"gave up sending {len(report.gave_up)}"] if report.gave_up else []
        delivered = seen.delivered_tags()
        undelivered = sorted(tag for tag in sent if tag not in delivered and tag not in verdict.lost)
        if undelivered:
            notes.append(f"{len(undelivered)} accepted in routing.events but never seen by an agent")
            notes.extend(platform.ledger.describe(tag) for tag in undelivered[:3])
        if verdict.duplicated:
            notes.append("duplicated e.g. " + ", ".join(verdict.duplicated[:3]))
        if verdict.lost:
            notes.append("lost e.g. " + ", ".join(verdict.lost[:3]))
        if seen.drops:
            notes.append(f"{seen.drops} streams dropped")
        return ScenarioResult(
            scenario.name,
            sent=len(sent) + len(report.gave_up),
            assigned=verdict.assigned,
            duplicated=len(verdict.duplicated),
            lost=len(verdict.lost) + len(report.gave_up) + len(undelivered),
            max_recover_s=max(recoveries, default=0.0),
            retries=report.retries,
            notes=notes,
        )
    finally:
        platform.stop()


def _sleep_until(platform: ChaosPlatform, seconds_into_feed: float) -> None:
    delay = platform.started_at + seconds_into_feed - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _recoveries(platform: ChaosPlatform, moments: list[float], timeout_s: float = 60.0) -> list[float]:
    assert platform.ledger is not None
    recoveries = []
    for moment in moments:
        deadline = time.monotonic() + timeout_s
        first = platform.ledger.first_accept_after(moment)
        while first is None and time.monotonic() < deadline:
            platform.ledger.poll()
            first = platform.ledger.first_accept_after(moment)
        recoveries.append((first - moment) if first is not None else timeout_s)
    return recoveries
