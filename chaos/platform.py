"""One fresh platform per scenario: the real processes, a faster routing policy, agents loaded with skillsctl."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from chaos.agents import AgentPool, Behaviour
from chaos.feed import FeedReport, RetryingFeed
from chaos.ledger import Ledger
from devstack.ports import free_port
from devstack.stack import REPO_ROOT, Stack, StackPorts
from devstack.tcp_proxy import TcpProxy

Progress = Callable[[str], None]


def chaos_policy(var_dir: Path) -> Path:
    """The demo policy with short offer timeouts and grace, so faults resolve within a scenario's time."""
    policy: dict[str, Any] = yaml.safe_load((REPO_ROOT / "config" / "routing_policy.yaml").read_text())
    policy.update(offer_timeout_s=3, disconnect_grace_s=5)
    policy.setdefault("sticky", {})["wait_for_previous_s"] = 0
    path = var_dir / "routing_policy.chaos.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(policy))
    return path


def agents_document(agent_ids: list[str]) -> dict[str, Any]:
    return {
        "skills": [{"name": "general", "description": "General questions"}],
        "queues": [{"name": "general", "description": "Everything without a more specific queue"}],
        "agents": [
            {
                "id": agent_id,
                "display_name": f"Chaos agent {index}",
                "skills": {"general": 4},
                "languages": {"en": 5, "hr": 4, "sk": 4, "de": 4},
                "capacity": {"email": 3, "telegram": 3},
                "queues": ["general"],
            }
            for index, agent_id in enumerate(agent_ids)
        ],
    }


class ChaosPlatform:
    """Broker (optionally behind a TcpProxy), the four services, agents, a retrying feed and the ledger."""

    def __init__(self, var_dir: Path, progress: Progress, behind_proxy: bool = False) -> None:
        ports = StackPorts.free()
        self.proxy = TcpProxy(free_port(), ports.broker) if behind_proxy else None
        self.stack = Stack(
            var_dir,
            ports,
            progress=progress,
            service_env_overrides={"router": {"ROUTING_POLICY_FILE": str(chaos_policy(var_dir))}},
            advertised_broker_port=self.proxy.listen_port if self.proxy else None,
        )
        self.progress = progress
        self.run_id = uuid.uuid4().hex[:4]
        self.started_at = 0.0  # monotonic time the feed started; faults are placed relative to it
        self.pool: AgentPool | None = None
        self.ledger: Ledger | None = None
        self.feed_report = FeedReport()
        self._feed_thread: threading.Thread | None = None

    def start(self, behaviours: dict[str, Behaviour]) -> None:
        if self.proxy is not None:
            self.proxy.start()
        self.stack.start(load_demo_agents=False)
        agents_file = self.stack.var_dir / "chaos_agents.yaml"
        agents_file.write_text(yaml.safe_dump(agents_document(list(behaviours))))
        self.stack.load_agents(agents_file)
        self.pool = AgentPool(f"127.0.0.1:{self.stack.ports.router_grpc}", behaviours)
        self.pool.start()
        self.ledger = Ledger(self.stack.kafka_bootstrap)
        self.progress(f"{len(behaviours)} agents logged in")

    def feed(self, count: int, rate: float) -> None:
        """Starts sending in the background; `wait_for_feed` joins it."""
        feed = RetryingFeed(self.stack.ports.smtp, self.stack.ports.webhook, self.run_id)
        self.feed_report = feed.report

        def send() -> None:
            feed.run(count, rate)

        self._feed_thread = threading.Thread(target=send, daemon=True)
        self.started_at = time.monotonic()
        self._feed_thread.start()

    def wait_for_feed(self, timeout_s: float) -> None:
        assert self._feed_thread is not None
        self._feed_thread.join(timeout_s)

    def kill_and_restart(self, service: str) -> float:
        """kill -9, then start again; returns the moment of the kill (epoch seconds)."""
        killed_at = time.time()
        self.stack.services[service].kill()
        self.progress(f"kill -9 {service}")
        self.stack.start_service(service)
        self.stack.wait_ready(service, timeout_s=120)
        return killed_at

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
        if self.ledger is not None:
            self.ledger.close()
        self.stack.stop()
        if self.proxy is not None:
            self.proxy.stop()
