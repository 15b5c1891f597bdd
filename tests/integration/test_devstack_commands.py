"""`make run` and `make demo` as a user runs them: real processes on their ports, a clean stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.ports import free_port
from devstack.stack import REPO_ROOT

pytestmark = pytest.mark.integration

PORT_VARS = ("BROKER_PORT", "SKILLS_GRPC_PORT", "ROUTER_GRPC_PORT", "SMTP_PORT", "EMAIL_HEALTH_PORT",
             "WEBHOOK_PORT", "SMTP_RELAY_PORT", "ROUTER_METRICS_PORT", "SKILLS_METRICS_PORT",
             "EMAIL_GATEWAY_METRICS_PORT", "SOCIAL_GATEWAY_METRICS_PORT")  # fmt: skip


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS" and not k.startswith("PYTEST_")}
    env.update({name: str(free_port()) for name in PORT_VARS})
    env["DEVSTACK_VAR_DIR"] = str(var_dir)
    return env


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_reaches_ready_answers_on_its_ports_and_stops_cleanly(tmp_path: Path) -> None:
    env = _env(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "run"], cwd=REPO_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.rstrip().endswith("] ready"):
                break
        assert any(line.rstrip().endswith("] ready") for line in output), "".join(output)
        for name in PORT_VARS:
            assert _answers(int(env[name])), f"{name}={env[name]} does not answer"
        assert (tmp_path / "stack.json").exists()
        # The banner's "Try it" commands work as printed: a mail over SMTP and a signed Telegram webhook.
        tried = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _try_it_commands("".join(output))],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert tried.returncode == 0, tried.stdout + tried.stderr
        assert '"published":1' in tried.stdout, tried.stdout
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
    assert "stopped:" in "".join(output)
    assert not (tmp_path / "stack.json").exists()
    assert not any(_answers(int(env[name])) for name in PORT_VARS)


def _try_it_commands(banner: str) -> str:
    """The shell commands the banner offers under "Try it:", up to the `make demo` line."""
    block = banner.split("Try it:\n", 1)[1]
    return block.split("  make demo", 1)[0]


def test_demo_routes_every_contact_and_prints_a_summary(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "demo"], cwd=REPO_ROOT, env=_env(tmp_path),
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Summary" in result.stdout
    assert "8 contacts sent, 8 routed, 8 completed" in result.stdout
