"""The whole platform as separate local processes: broker, skills, router, both gateways and a mail sink."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from devstack.broker import EmbeddedBroker
from devstack.ports import wait_for_port
from devstack.readiness import wait_for_grpc_health, wait_for_http_ok

REPO_ROOT = Path(__file__).resolve().parent.parent
# Signs survey tickets in the local stack (router issues them, the social gateway verifies); never used in deploy/.
DEMO_FEEDBACK_SECRET = "demo-feedback-secret-local-only"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class StackPorts:
    broker: int
    skills_grpc: int
    router_grpc: int
    smtp: int
    email_health: int
    webhook: int
    mail_sink: int
    # Prometheus scrape ports (METRICS_PORT of each service); 0 turns a service's endpoint off. The defaults let a
    # state file written before these fields existed still load.
    router_metrics: int = 0
    skills_metrics: int = 0
    email_gateway_metrics: int = 0
    social_gateway_metrics: int = 0
    # The social platforms' stand-in (devstack.platform_sink); 0 in a state file written before it existed.
    platform_sink: int = 0

    @classmethod
    def defaults(cls) -> StackPorts:
        return cls(
            broker=int(os.environ.get("BROKER_PORT", "19092")),
            skills_grpc=int(os.environ.get("SKILLS_GRPC_PORT", "50052")),
            router_grpc=int(os.environ.get("ROUTER_GRPC_PORT", "50051")),
            smtp=int(os.environ.get("SMTP_PORT", "2525")),
            email_health=int(os.environ.get("EMAIL_HEALTH_PORT", "8081")),
            webhook=int(os.environ.get("WEBHOOK_PORT", "8080")),
            mail_sink=int(os.environ.get("SMTP_RELAY_PORT", "2526")),
            router_metrics=int(os.environ.get("ROUTER_METRICS_PORT", "9101")),
            skills_metrics=int(os.environ.get("SKILLS_METRICS_PORT", "9102")),
            email_gateway_metrics=int(os.environ.get("EMAIL_GATEWAY_METRICS_PORT", "9103")),
            social_gateway_metrics=int(os.environ.get("SOCIAL_GATEWAY_METRICS_PORT", "9104")),
            platform_sink=int(os.environ.get("PLATFORM_SINK_PORT", "2527")),
        )

    @classmethod
    def free(cls) -> StackPorts:
        """Distinct free ports: each stays bound until all are picked, so the kernel cannot hand one out twice."""
        with contextlib.ExitStack() as held:
            ports = []
            for _ in fields(cls):
                sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                sock.bind(("127.0.0.1", 0))
                ports.append(int(sock.getsockname()[1]))
        return cls(*ports)

    def metrics(self, service: str) -> int:
        """The scrape port of `service` ("router", "skills", "email_gateway", "social_gateway")."""
        port = getattr(self, f"{service}_metrics")
        assert isinstance(port, int)
        return port


@dataclass
class ServiceProcess:
    """One service run as `python -m <module>`, logging to its own file."""

    name: str
    module: str
    env: dict[str, str]
    log_path: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after the timeout; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Stack:
    """Starts and stops the platform; the one place that knows how the local processes fit together."""

    SERVICE_ORDER = ("mail_sink", "platform_sink", "skills", "router", "email_gateway", "social_gateway")
    SINKS = ("mail_sink", "platform_sink")

    def __init__(
        self,
        var_dir: Path,
        ports: StackPorts,
        kafka_bootstrap: str | None = None,
        progress: Progress = lambda _: None,
        extra_env: dict[str, str] | None = None,
        service_env_overrides: dict[str, dict[str, str]] | None = None,
        advertised_broker_port: int | None = None,
    ) -> None:
        self.var_dir = var_dir.resolve()
        self.ports = ports
        self.progress = progress
        self.broker: EmbeddedBroker | None = None
        if kafka_bootstrap is None:
            # An advertised port other than the broker's own puts a TcpProxy between clients and the broker.
            self.broker = EmbeddedBroker(ports.broker, self.var_dir / "logs" / "broker.log", advertised_broker_port)
            kafka_bootstrap = self.broker.bootstrap_servers
        self.kafka_bootstrap = kafka_bootstrap
        self.extra_env = extra_env or {}
        # Per-service env on top of the defaults, e.g. {"router": {"ROUTING_POLICY_FILE": ...}} for a test policy.
        self.service_env_overrides = service_env_overrides or {}
        self.services: dict[str, ServiceProcess] = {}

    # --- environment -------------------------------------------------------------------------------------------
    def common_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.kafka_bootstrap,
            TRACE_DIR=str(self.var_dir / "traces"),
            DATA_DIR=str(self.var_dir / "data"),
            LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        if self.broker is not None:
            # tansu holds every fetch for the full max wait, even with data ready (real Kafka answers at once):
            # a short wait keeps each Kafka hop from costing ~250 ms locally.
            env.setdefault("KAFKA_FETCH_MAX_WAIT_MS", "20")
        env.update(self.extra_env)
        return env

    def service_env(self, name: str) -> dict[str, str]:
        p = self.ports
        specific = {
            "mail_sink": {},
            "platform_sink": {},
            "skills": {"SKILLS_GRPC_PORT": str(p.skills_grpc)},
            "router": {
                "ROUTER_GRPC_PORT": str(p.router_grpc),
                "ROUTING_POLICY_FILE": str(REPO_ROOT / "config" / "routing_policy.yaml"),
                "FEEDBACK_TOKEN_SECRET": DEMO_FEEDBACK_SECRET,
            },
            "email_gateway": {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(p.smtp),
                "EMAIL_HEALTH_PORT": str(p.email_health),
                "EMAIL_GATEWAY_CONFIG": str(REPO_ROOT / "config" / "email_gateway.yaml"),
                "SMTP_RELAY_HOST": "127.0.0.1",
                "SMTP_RELAY_PORT": str(p.mail_sink),
                # Survey rating links point at the social gateway, which records the answers.
                "FEEDBACK_BASE_URL": f"http://127.0.0.1:{p.webhook}",
            },
            "social_gateway": {
                "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(p.webhook),
                "SOCIAL_GATEWAY_CONFIG": str(self.social_gateway_config),
                "DEMO_MODE": "true",
                "FEEDBACK_TOKEN_SECRET": DEMO_FEEDBACK_SECRET,
            },
        }[name]
        if name not in self.SINKS:
            specific["METRICS_PORT"] = str(p.metrics(name))
        return {**self.common_env(), **specific, **self.service_env_overrides.get(name, {})}

    @functools.cached_property
    def social_gateway_config(self) -> Path:
        """The demo config with the platforms' send APIs pointed at the local platform sink (and demo tokens),
        so replies and surveys to social customers go out somewhere visible instead of failing."""
        config = yaml.safe_load((REPO_ROOT / "config" / "social_gateway.yaml").read_text())
        sink = f"http://127.0.0.1:{self.ports.platform_sink}"
        config["telegram"]["api_base_url"] = f"{sink}/telegram"
        for bot in config["telegram"]["bots"].values():
            bot["api_token"] = bot.get("api_token") or "demo-bot-api-token"
        config["meta"]["graph_api_base_url"] = f"{sink}/graph"
        for source in config["meta"]["sources"].values():
            source["access_token"] = source.get("access_token") or "demo-page-access-token"
        config["x"]["api_base_url"] = f"{sink}/x"
        for account in config["x"]["accounts"].values():
            account["access_token"] = account.get("access_token") or "demo-x-access-token"
        path = self.var_dir / "config" / "social_gateway.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def _process(self, name: str) -> ServiceProcess:
        log_path = self.var_dir / "logs" / f"{name}.log"
        outbox = str(self.var_dir / "outbox")
        if name == "mail_sink":
            args = ("--port", str(self.ports.mail_sink), "--maildir", outbox)
            return ServiceProcess(name, "devstack.mail_sink", self.common_env(), log_path, args)
        if name == "platform_sink":
            args = ("--port", str(self.ports.platform_sink), "--outbox", outbox)
            return ServiceProcess(name, "devstack.platform_sink", self.common_env(), log_path, args)
        return ServiceProcess(name, f"services.{name}", self.service_env(name), log_path)

    # --- lifecycle ---------------------------------------------------------------------------------------------
    def start(self, load_demo_agents: bool = True) -> None:
        started = time.monotonic()
        if self.broker is not None:
            self.progress(f"starting broker (tansu) on {self.kafka_bootstrap}")
            self.broker.start()
        self.progress("creating topics")
        from contactrouting.config import ServiceSettings, load_settings
        from contactrouting.kafka_security import kafka_client_options
        from contactrouting.topics import ensure_topics

        # An external broker may want TLS and a login (KAFKA_SECURITY_PROTOCOL, ...); the embedded one is plaintext.
        security = None if self.broker is not None else kafka_client_options(load_settings(ServiceSettings))
        ensure_topics(self.kafka_bootstrap, partitions=3, replication_factor=1, client_options=security)
        for name in self.SERVICE_ORDER:
            self.start_service(name)
        for name in self.SERVICE_ORDER:
            self.wait_ready(name)
        if load_demo_agents:
            self.progress("loading demo agents with skillsctl")
            self.load_agents(REPO_ROOT / "config" / "demo_agents.yaml")
        self.progress(f"stack ready in {time.monotonic() - started:.1f}s")

    def start_service(self, name: str) -> ServiceProcess:
        process = self._process(name)
        self.services[name] = process
        self.progress(f"starting {name}")
        process.start()
        return process

    def wait_ready(self, name: str, timeout_s: float = 60.0) -> None:
        p = self.ports
        process = self.services[name]
        try:
            if name == "mail_sink":
                wait_for_port(p.mail_sink, timeout_s)
            elif name == "platform_sink":
                wait_for_port(p.platform_sink, timeout_s)
            elif name == "skills":
                wait_for_grpc_health(f"127.0.0.1:{p.skills_grpc}", "contactrouting.v1.SkillsAdmin", timeout_s)
            elif name == "router":
                wait_for_grpc_health(f"127.0.0.1:{p.router_grpc}", "contactrouting.v1.AgentDesk", timeout_s)
            elif name == "email_gateway":
                wait_for_http_ok(f"http://127.0.0.1:{p.email_health}/readyz", timeout_s)
                wait_for_port(p.smtp, timeout_s)
            elif name == "social_gateway":
                wait_for_http_ok(f"http://127.0.0.1:{p.webhook}/readyz", timeout_s)
        except TimeoutError as error:
            raise RuntimeError(
                f"{name} did not become ready: {error}\n--- {name} log ---\n{process.log_tail()}"
            ) from None
        if not process.running:
            raise RuntimeError(f"{name} exited early\n--- {name} log ---\n{process.log_tail()}")
        self.progress(f"{name} ready")

    def restart_service(self, name: str) -> None:
        self.services[name].stop()
        self.start_service(name)
        self.wait_ready(name)

    def load_agents(self, path: Path) -> None:
        env = {**self.common_env(), "SKILLSCTL_TARGET": f"127.0.0.1:{self.ports.skills_grpc}"}
        result = subprocess.run(
            [sys.executable, "-m", "services.skills.cli", "agents", "apply", "-f", str(path)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"skillsctl failed ({result.returncode}): {result.stderr or result.stdout}")

    def stop(self) -> dict[str, int | None]:
        """Stops every service (SIGTERM first), then the broker; returns each service's exit code."""
        codes = {name: self.services[name].stop() for name in reversed(self.SERVICE_ORDER) if name in self.services}
        if self.broker is not None:
            self.broker.stop()
        return codes
