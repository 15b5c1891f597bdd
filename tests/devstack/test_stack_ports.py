"""Each service of the local stack gets its own Prometheus scrape port, free in tests and fixed for `make run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.stack import Stack, StackPorts

SERVICES = ("router", "skills", "email_gateway", "social_gateway")


def test_every_service_gets_its_own_metrics_port(tmp_path: Path) -> None:
    ports = StackPorts.free()
    stack = Stack(tmp_path, ports, kafka_bootstrap="127.0.0.1:9")

    metrics_ports = {name: int(stack.service_env(name)["METRICS_PORT"]) for name in SERVICES}

    assert metrics_ports == {name: ports.metrics(name) for name in SERVICES}
    assert len(set(ports.__dict__.values())) == len(ports.__dict__), ports


def test_defaults_are_9101_to_9104_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICES:
        monkeypatch.delenv(f"{name.upper()}_METRICS_PORT", raising=False)
    assert [StackPorts.defaults().metrics(name) for name in SERVICES] == [9101, 9102, 9103, 9104]

    monkeypatch.setenv("ROUTER_METRICS_PORT", "19101")
    assert StackPorts.defaults().metrics("router") == 19101


def test_a_state_file_from_before_metrics_ports_still_loads() -> None:
    old = {"broker": 1, "skills_grpc": 2, "router_grpc": 3, "smtp": 4, "email_health": 5, "webhook": 6, "mail_sink": 7}
    assert StackPorts(**old).metrics("router") == 0  # 0: the service serves no metrics
