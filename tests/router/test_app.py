"""`python -m services.router` refuses bad configuration at start, with a message naming the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devstack.stack import REPO_ROOT


def run_router(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.router"],
        cwd=REPO_ROOT,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "ROUTER_GRPC_PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_invalid_policy_stops_the_router_before_it_connects_anywhere(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("default_queue: nowhere\nqueues: []\n")
    result = run_router({"ROUTING_POLICY_FILE": str(policy)})
    assert result.returncode == 2
    assert "invalid routing policy" in result.stderr and "default_queue 'nowhere'" in result.stderr


def test_bad_settings_are_named(tmp_path: Path) -> None:
    result = run_router({"ROUTER_GRPC_PORT": "not-a-port", "ROUTER_TICK_INTERVAL_S": "0"})
    assert result.returncode == 2
    assert "ROUTER_GRPC_PORT" in result.stderr and "ROUTER_TICK_INTERVAL_S" in result.stderr


def test_a_survey_secret_too_short_to_sign_tickets_is_refused() -> None:
    result = run_router({"FEEDBACK_TOKEN_SECRET": "short"})
    assert result.returncode == 2
    assert "FEEDBACK_TOKEN_SECRET" in result.stderr and "at least 16 bytes" in result.stderr


def test_an_invalid_survey_block_stops_the_router_with_the_field_named(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "default_queue: general\nqueues:\n  - name: general\n    survey: {enabled: true, scales: [stars]}\n"
    )
    result = run_router({"ROUTING_POLICY_FILE": str(policy)})
    assert result.returncode == 2
    assert "queues.0.survey.scales.0" in result.stderr
