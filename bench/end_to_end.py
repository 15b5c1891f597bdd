"""The whole platform as separate processes: contacts in over SMTP and signed webhooks, offers out to gRPC agents.

Steps of rising fixed rate find saturation; then the latency from sending a contact to its offer reaching the
agent's process is measured at 50 % and 90 % of the sustained rate. See bench/README.md for the definitions.

Router figures (performance round, 2026-11-25, 2 shared cores at load average 4-11, so ranges, not points).
The primary figure is the router's CPU per contact, measured apart from the gateways: skills + router only,
2,000 ContactEvents produced straight to contacts.inbound at 200/s, 500 agents of `bench.agent_fleet`, router
CPU from /proc over the load minus its idle rate (fetch wait 500 ms):

| router at | CPU ms/contact | offered/s at 200/s in | threads | context switches / 10 s |
|---|---|---|---|---|
| d2b8fec (before) | 5.8-6.8 (6 runs) | 111-156 | 1,021 | 126k-162k |
| routing events without a PRODUCER span each | 5.8-6.6 (in-process: 23 -> 3 us per publish) | 137-147 | 1,021 | |
| intake pipelined, async commit | 5.6-6.4 (latency, not CPU) | 115-156 | 1,021 | |
| agent desks on grpc.aio | 3.6-4.0 | 155-191 | 23 | 40k-65k |
| producer linger 2 -> 10 ms (+ domain work) | 3.0-4.2 (producer: 177 -> 145 us/record) | 166-199 | 23 | 32k-77k |

`--quick` (50 agents, so 100 desk threads before), whole platform, gateways' own work included: at d2b8fec
(20:01 UTC, load 3.9) sustained 40.6/s (80/s failed on p99 1,269 ms), router 31 % of a core at 75/s (4.1 ms per
contact); at 9f4cb86 (20:42, load 6.3) sustained 157/s, 320/s failed because the load client could send only
211/s (SMTP and webhook calls block until the gateways' Kafka acks); at 157/s the email gateway used 49 % of a
core, the router 39 % (2.5 ms/contact), the social gateway 38 %.

What limits it now (py-spy --gil on the router at 200/s, 500 agents): the router is no longer the first process
to saturate in end_to_end; the gateways are. In the router, a third of the GIL time is the routing domain
(`choose_agent`, eligibility, index upkeep), then the Kafka client (producer send + sender thread ~20 %, the
follower that reads the router's own ~6 routing events per contact back to catch the gateways' REPLY_SENT ~8 %),
OpenTelemetry (~8 % spans, ~4 % JSON export at ~11 us per span, ~6 % metrics: the SDK's `_hash_attributes` per
measurement), and the asyncio desk loop (~5 %). On a loaded 2-core machine py-spy --gil also samples a GIL
holder the OS has preempted, so a single cheap frame can top a profile (BoundedList.__init__ 28 %,
SamplingResult.__init__ 12 % in two quick runs): trust the package shares over single frames.

At ~3.5 ms of CPU per contact one router process tops out near 250-300 contacts/s per core: 2k/s needs the
per-contact work cut about sevenfold (the Kafka client and the per-record spans and metrics off the Python hot
path) or routing split across processes, a design change.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.broker import BOOTSTRAP_ENV
from bench.contact_feed import ContactFeed, FeedTarget
from bench.cpu_meter import CpuMeter, pid_listening_on
from bench.fleet_process import AgentFleet
from bench.load_steps import FULL, QUICK, Size, StepResult, find_saturation, run_step, settle, warm_up
from bench.platform_under_test import BenchStack, provision_agents, recreate_topics
from bench.profiles import Profiles
from bench.profiles import describe as describe_profiles
from bench.standalone import main, progress
from bench.trace_stages import describe as describe_stages

BASELINE_ENV = "BENCH_KAFKA_CONSUME_PER_S"
PROFILE_ENV = "BENCH_PROFILE_DIR"
PROFILED = ("router", "email_gateway", "social_gateway")


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
        fleet = AgentFleet(
            f"127.0.0.1:{stack.ports.router_grpc}", size.agents, size.think_ms, var_dir / "logs" / "agent_fleet.log"
        )
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


if __name__ == "__main__":
    main("end_to_end", run)
